"""One PostgreSQL round trip through the Unix socket against TCP on loopback: the embedded
server's two addresses, the same single-row update, CPU per statement on both sides
(client user and system time from `getrusage`, the server's from /proc), alternating twice.

    .venv/bin/python bench/pg_socket.py --statements 20000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).parent))
from _system import free_port  # noqa: E402
from end_to_end import _children  # noqa: E402

from oncoroute_shared.embedded.postgres import EmbeddedPostgres  # noqa: E402


def _server_cpu(pid: int) -> float:
    ticks = 0
    for p in [pid, *_children(pid)]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        except OSError:
            pass  # a backend that ended meanwhile
    return ticks / os.sysconf("SC_CLK_TCK")


async def _measure(pg: EmbeddedPostgres, url: str, n: int) -> dict[str, float]:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE TABLE IF NOT EXISTS t (id int PRIMARY KEY, v int)")
        await conn.execute("INSERT INTO t VALUES (1, 0) ON CONFLICT DO NOTHING")
        for _ in range(500):
            await conn.fetchval("SELECT 1")
        assert pg.proc is not None
        r0, s0, t0 = resource.getrusage(resource.RUSAGE_SELF), _server_cpu(pg.proc.pid), \
            time.perf_counter()
        for i in range(n):
            await conn.fetchval("UPDATE t SET v = $1 WHERE id = 1 RETURNING true", i)
        r1, s1, t1 = resource.getrusage(resource.RUSAGE_SELF), _server_cpu(pg.proc.pid), \
            time.perf_counter()
    finally:
        await conn.close()
    return {"wall_us": round((t1 - t0) / n * 1e6, 1),
            "client_user_us": round((r1.ru_utime - r0.ru_utime) / n * 1e6, 1),
            "client_sys_us": round((r1.ru_stime - r0.ru_stime) / n * 1e6, 1),
            "server_us": round((s1 - s0) / n * 1e6, 1)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=20000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pg = EmbeddedPostgres(Path(tmp) / "pg", port=free_port()).start()
        try:
            print("address  wall us  client user us  client sys us  server us (per statement)")
            for _ in range(2):
                for name, url in (("tcp", pg.url), ("unix", pg.local_url)):
                    m = await _measure(pg, url, args.statements)
                    print(f"{name:7} {m['wall_us']:8} {m['client_user_us']:15}"
                          f" {m['client_sys_us']:14} {m['server_us']:10}")
        finally:
            pg.stop()


if __name__ == "__main__":
    asyncio.run(main())
