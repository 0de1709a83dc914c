"""Tables and PNG plots (log-scale x) of a `growth.py` result; again from its JSON with
`.venv/bin/python bench/growth_plots.py docs/plots/growth.json docs/plots`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

HEADLINE = ["board", "board, state=breached", "board, cached", "open clocks", "summary 7d",
            "one case (history)", "gauges (Grafana), SQL"]


def _by_cases(result: dict[str, Any]) -> list[dict[str, Any]]:
    roster = max(set(p["specialists"] for p in result["points"]),
                 key=lambda s: sum(p["specialists"] == s for p in result["points"]))
    return sorted((p for p in result["points"] if p["specialists"] == roster),
                  key=lambda p: p["cases"])


def _by_roster(result: dict[str, Any]) -> list[dict[str, Any]]:
    smallest = min(p["cases"] for p in result["points"])
    return sorted((p for p in result["points"] if p["cases"] == smallest),
                  key=lambda p: p["specialists"])


def table(result: dict[str, Any]) -> str:
    lines = ["| cases | specialists | rows | seed s | " + " | ".join(
        f"{v} p50/p99 ms" for v in HEADLINE) + " | burst cases/s | burst p50/p99 s"
        " | fixed-rate p50/p99 ms |", "|---" * (len(HEADLINE) + 7) + "|"]
    for p in sorted(result["points"], key=lambda p: (p["cases"], p["specialists"])):
        views = p["dashboard"]["views"]
        cells = [f"{views[v]['p50_ms']} / {views[v]['p99_ms']}" for v in HEADLINE]
        b, r = p["burst"], p["fixed_rate"]
        lines.append(
            f"| {p['cases']:,} | {p['specialists']:,} | {p['rows_total']:,} | "
            f"{p['seed_seconds']} | " + " | ".join(cells) +
            f" | {b['throughput_cases_per_s']} | {b['latency_ms']['p50'] / 1000:.1f} / "
            f"{b['latency_ms']['p99'] / 1000:.1f} | {r['latency_ms']['p50']} / "
            f"{r['latency_ms']['p99']} |")
    lines += ["", "| specialists | candidates per seat | choose p50/p99 ms (CPU) |"
              " dispatch transaction p50/p99 ms |", "|---|---|---|---|"]
    for m in result["matcher"]:
        lines.append(f"| {m['specialists']:,} | {m['candidates_mean']} | "
                     f"{m['choose_cpu']['p50_ms']} / {m['choose_cpu']['p99_ms']} | "
                     f"{m['dispatch']['p50_ms']} / {m['dispatch']['p99_ms']} |")
    return "\n".join(lines)


def views_table(result: dict[str, Any]) -> str:
    """Every view's p50 / p99 / max (ms) by cases on record, at the usual roster."""
    points = _by_cases(result)
    lines = ["| view | " + " | ".join(f"{p['cases']:,} cases" for p in points) + " |",
             "|---" * (len(points) + 1) + "|"]
    for view in points[0]["dashboard"]["views"]:
        cells = []
        for p in points:
            v = p["dashboard"]["views"][view]
            cells.append(f"{v['p50_ms']:g} / {v['p99_ms']:g} / {v['max_ms']:g}")
        lines.append(f"| {view} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_all(result: dict[str, Any], out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    written = []
    points = _by_cases(result)
    xs = [p["cases"] for p in points]
    roster = points[0]["specialists"]

    fig, ax = plt.subplots(figsize=(8, 5))
    for view in HEADLINE:
        ax.plot(xs, [p["dashboard"]["views"][view]["p99_ms"] for p in points], marker="o",
                label=view)
    ax.axhline(100, color="red", linestyle="--", linewidth=1, label="target p99 100 ms")
    ax.set(xscale="log", yscale="log", xlabel="cases on record", ylabel="p99 response (ms)",
           title=f"Board and sla API p99 ({roster:,} specialists)")
    ax.legend(fontsize=7)
    ax.grid(True, which="both", alpha=0.3)
    written.append(_save(fig, out / "growth_dashboard.png"))

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.5))
    left.plot(xs, [p["burst"]["throughput_cases_per_s"] for p in points], marker="o",
              label="burst, flat out")
    left.set(xscale="log", xlabel="cases on record", ylabel="cases/s", ylim=(0, None),
             title="Throughput")
    rate = points[0]["fixed_rate"]["rate"]
    for q in ("p50", "p99"):
        right.plot(xs, [p["fixed_rate"]["latency_ms"][q] for p in points], marker="o",
                   label=f"{q} at {rate} cases/s")
    right.set(xscale="log", xlabel="cases on record", ylabel="ms", ylim=(0, None),
              title="Submission to specialist's offer sent")
    for ax in (left, right):
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    written.append(_save(fig, out / "growth_throughput.png"))

    if not result["matcher"]:
        return written
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.5))
    ms = result["matcher"]
    sx = [m["specialists"] for m in ms]
    left.plot(sx, [m["choose_cpu"]["p99_ms"] for m in ms], marker="o", label="choose, p99 CPU")
    left.plot(sx, [m["dispatch"]["p99_ms"] for m in ms], marker="o",
              label="dispatch transaction, p99")
    left.plot(sx, [m["dispatch"]["p50_ms"] for m in ms], marker="o",
              label="dispatch transaction, p50")
    left.set(xscale="log", yscale="log", xlabel="specialists", ylabel="ms",
             title="Matcher decision per seat")
    rp = _by_roster(result)
    rx = [p["specialists"] for p in rp]
    right.plot(rx, [p["burst"]["throughput_cases_per_s"] for p in rp], marker="o",
               label="burst cases/s")
    right.plot(rx, [p["dashboard"]["views"]["board"]["p99_ms"] for p in rp], marker="o",
               label="board p99 ms")
    right.set(xscale="log", xlabel="specialists", ylim=(0, None),
              title=f"End to end, {rp[0]['cases']:,} cases on record")
    for ax in (left, right):
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    written.append(_save(fig, out / "growth_matcher.png"))
    return written


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    fig.clear()
    return path


if __name__ == "__main__":
    import json
    import sys

    found = json.loads(Path(sys.argv[1]).read_text())
    print(table(found))
    print(views_table(found))
    for path in plot_all(found, Path(sys.argv[2])):
        print(path)
