"""`oncoroute up`: the whole system on one machine, each service its own process."""

from __future__ import annotations

import argparse
import os
import signal
import threading

from ..embedded.stack import DEFAULT_PORTS, SERVICES, Infrastructure, ServiceProcess, wait_ready
from ..settings import ServiceSettings, load

DEMO_TIME_SCALE = 240  # `up --demo` without ONCOROUTE_TIME_SCALE: 48 h in 12 min, 24 h in 6


def up(args: argparse.Namespace) -> int:
    settings = load(ServiceSettings)
    data_dir = settings.oncoroute_data_dir.resolve()
    infra = Infrastructure(data_dir, kafka=settings.kafka_bootstrap_servers,
                           database_url=settings.database_url).start()
    print(f"broker:   {infra.kafka}{' (embedded Tansu, memory only)' if infra.broker else ''}")
    print(f"database: {infra.database_url}{' (embedded PostgreSQL)' if infra.postgres else ''}")
    print(f"data dir: {data_dir}")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    logs = data_dir / "logs"
    logs.mkdir(exist_ok=True)
    env = infra.env()
    if not (settings.operator_token_hashes or settings.operator_token_hashes_file):
        from ..operator_access import new_token

        token, env["OPERATOR_TOKEN_HASHES"] = new_token()
        print(f"operator token for the sla and notify APIs (this run only): {token}")
    if args.demo and "oncoroute_time_scale" not in settings.model_fields_set:
        env["ONCOROUTE_TIME_SCALE"] = str(DEMO_TIME_SCALE)  # so the board visibly moves
        print(f"time scale: {DEMO_TIME_SCALE} (a 48-hour clock runs in "
              f"{48 * 60 / DEMO_TIME_SCALE:g} minutes; set ONCOROUTE_TIME_SCALE to change)")
    services = [
        ServiceProcess(name, int(os.environ.get(f"{name.upper()}_PORT", DEFAULT_PORTS[name])),
                       env, logs / f"{name}.log")
        for name in SERVICES
    ]
    try:
        if args.demo:
            from .demo import load_demo_roster

            print(f"demo roster: {load_demo_roster(env)} specialists")
        for svc in services:
            svc.start()
        wait_ready(services, port_retries=0)  # the ports asked for, or an error
        for svc in services:
            print(f"{svc.name:8s} {svc.url}  (health {svc.url}/readyz, logs {svc.log_path})")
        board = next(svc.url for svc in services if svc.name == "sla")
        print(f"board:    {board}/  (the operator board: sign in with the operator token)")
        feeder = None
        if args.demo:
            from .demo import DemoFeed, demo_api_key

            feeder = DemoFeed(services[0].url, args.demo_rate, stop, api_key=demo_api_key(env))
            feeder.start()
            print(f"demo feed: {args.demo_rate} submissions/s to {services[0].url}/v1/cases")
        print("OncoRoute is up. Ctrl-C stops everything.", flush=True)
        while not stop.is_set():
            for svc in services:
                if not svc.alive():
                    print(f"{svc.name} exited (see {svc.log_path}); restarting", flush=True)
                    svc.start()
            stop.wait(1.0)
        if feeder:
            feeder.join(5)
    finally:
        for svc in services:
            svc.stop()
        infra.stop()
        print("stopped.")
    return 0
