"""`oncoroute notify preview TEMPLATE --event FILE.json` renders what notify would send."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oncoroute_notify import samples
from oncoroute_shared.cli.main import main

pytestmark = pytest.mark.unit


def write(tmp: Path, kind: str) -> Path:
    path = tmp / f"{kind}.json"
    path.write_text(json.dumps(samples.event(kind, samples.datas()[kind]).model_dump(
        mode="json")))
    return path


def run(*args: str) -> int:
    with pytest.raises(SystemExit) as done:
        main(["notify", "preview", *args])
    return int(done.value.code or 0)


def test_preview_renders_each_channel_for_the_event(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    event = write(tmp_path, "case.opinion_ready")
    assert run("patient_opinion_ready", "--event", str(event), "--locale", "hi", "--html") == 0
    out = capsys.readouterr().out
    assert "=== patient_opinion_ready | email | patient | hi" in out
    assert "Subject: आपकी दूसरी राय तैयार है" in out and '<html lang="hi">' in out
    assert "=== patient_opinion_ready | sms | patient | hi" in out


def test_preview_says_what_an_event_produces_instead(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert run("patient_opinion_ready", "--event", str(write(tmp_path, "case.opened"))) == 2
    err = capsys.readouterr().err
    assert "case.opened does not produce patient_opinion_ready" in err
    assert "patient_request_received (sms)" in err


def test_preview_refuses_a_bad_event_file(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"type": "case.opened", "data": {"case_id": "x"}}))
    assert run("patient_request_received", "--event", str(bad)) == 2
    assert "cannot preview" in capsys.readouterr().err
