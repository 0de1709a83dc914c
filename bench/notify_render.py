"""CPU to render one message of notify's: every email and SMS template, with the contexts the
unit tests use, in a locale that has files (`en`) and one that falls back to English (`fr`).

    .venv/bin/python bench/notify_render.py --seconds 3
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests package
from oncoroute_notify.adapters.templates import Renderer  # noqa: E402
from tests.unit.test_notify_templates import everything  # noqa: E402


def per_message_us(renderer: Renderer, locale: str, seconds: float) -> tuple[float, int]:
    messages = [m for m in everything() if m.channel in ("email", "sms")]

    def once() -> None:
        for m in messages:
            renderer.render(delivery_id="d-1", recipient=m.recipient, template=m.template,
                            channel=m.channel, locale=locale, context=m.context)

    once()  # the first use reads the files
    n, start = 0, time.process_time()
    while time.process_time() - start < seconds:
        once()
        n += len(messages)
    return (time.process_time() - start) / n * 1e6, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="per locale and round")
    args = parser.parse_args()
    for round_ in (1, 2):
        for locale in ("en", "fr"):
            us, n = per_message_us(Renderer(), locale, args.seconds)
            print(f"round {round_}, locale {locale}: {us:.0f} us of CPU per message ({n})")


if __name__ == "__main__":
    main()
