"""What the deployment tests read: the compose model as Docker Compose itself resolves it, the
Kubernetes manifests as kustomize would render them, and the settings each service accepts."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from oncoroute_shared.cli.main import load_spec

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
BIN = Path(sys.executable).parent
SERVICES = ("intake", "matcher", "sla", "notify")


# ---- settings ---------------------------------------------------------------------------

def setting_names(service: str) -> set[str]:
    """Environment names a service reads: its settings model's fields (no prefix,
    case-insensitive) plus the names the CLI reads itself (`oncoroute run`)."""
    cls = load_spec(service).settings_cls
    names = set()
    for field_name, info in cls.model_fields.items():
        alias = info.validation_alias if isinstance(info.validation_alias, str) else None
        names.add((alias or field_name).upper())
    return names | cli_env_names(service)


def cli_env_names(service: str) -> set[str]:
    """`os.environ.get("NAME")` / `os.environ.get(f"{args.service.upper()}_PORT")` in the CLI."""
    source = (REPO / "shared/oncoroute_shared/cli/main.py").read_text()
    names = set()
    for literal in re.findall(r"os\.environ\.get\(\s*f?\"([^\"]+)\"", source):
        names.add(re.sub(r"\{[^}]*service[^}]*\}", service.upper(), literal))
    return names


def load_settings(service: str, env: dict[str, str]) -> Any:
    """The service's settings from exactly `env` (validated the way the service does)."""
    cls = load_spec(service).settings_cls
    fields = {name.upper(): name for name in cls.model_fields}
    return cls(**{fields[k]: v for k, v in env.items() if k in fields})


# ---- docker compose ---------------------------------------------------------------------

def compose(*args: str, env_file: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real `docker compose` CLI (no engine needed for `config`) on the repo's file."""
    cmd = [str(BIN / "docker-compose"), "--project-directory", str(REPO),
           "-f", str(REPO / "docker-compose.yml")]
    if env_file is not None:
        cmd += ["--env-file", str(env_file)]
    # Only PATH and HOME: the caller's own settings must not leak into the resolved model.
    clean = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME")}
    return subprocess.run([*cmd, *args], capture_output=True, text=True, env=clean,
                          timeout=60, cwd=REPO)


def compose_model(env_file: Path | None = None) -> dict[str, Any]:
    out = compose("config", "--format", "json", env_file=env_file)
    assert out.returncode == 0, out.stderr
    return dict(json.loads(out.stdout))


# ---- kustomize (the subset these manifests use) -----------------------------------------

def load_documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def render(directory: Path) -> list[dict[str, Any]]:
    """Render a kustomization: resources (files and directories), namespace, images and
    strategic-merge patches. Fails on any other field, so a manifest using more than this
    renderer knows cannot pass unchecked."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    known = {"apiVersion", "kind", "resources", "namespace", "images", "patches"}
    unknown = set(kustomization) - known
    assert not unknown, f"{directory}: renderer does not support {sorted(unknown)}"
    docs: list[dict[str, Any]] = []
    for entry in kustomization.get("resources", []):
        target = directory / entry
        docs += render(target) if target.is_dir() else load_documents(target)
    for patch in kustomization.get("patches", []):
        for doc in load_documents(directory / patch["path"]):
            matches = [d for d in docs if _same_object(d, doc)]
            assert len(matches) == 1, f"patch {patch['path']}: {_ref(doc)} matches {len(matches)}"
            merged = merge(matches[0], doc)
            matches[0].clear()
            matches[0].update(merged)
    for image in kustomization.get("images", []):
        for container in containers(docs):
            name, _, tag = container["image"].partition(":")
            if name == image["name"]:
                container["image"] = f"{image.get('newName', name)}:{image.get('newTag', tag)}"
    if "namespace" in kustomization:
        for doc in docs:
            if doc["kind"] != "Namespace":
                doc.setdefault("metadata", {})["namespace"] = kustomization["namespace"]
    return docs


_MERGE_KEYS = {"containers": "name", "initContainers": "name", "env": "name",
               "volumes": "name", "volumeMounts": "mountPath", "ports": "containerPort"}


def merge(base: Any, patch: Any, key: str = "") -> Any:
    """Strategic merge: maps merge, lists of containers/env/volumes merge by their key, other
    lists are replaced (as kustomize does for e.g. an autoscaler's `metrics`)."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = copy.deepcopy(base)
        for k, v in patch.items():
            out[k] = merge(out[k], v, k) if k in out else copy.deepcopy(v)
        return out
    if isinstance(base, list) and isinstance(patch, list) and key in _MERGE_KEYS:
        field = _MERGE_KEYS[key]
        items = copy.deepcopy(base)
        for item in patch:
            same = [i for i, b in enumerate(items) if b.get(field) == item.get(field)]
            if same:
                items[same[0]] = merge(items[same[0]], item)
            else:
                items.append(copy.deepcopy(item))
        return items
    return copy.deepcopy(patch)


def _same_object(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return bool(a["kind"] == b["kind"] and a["metadata"]["name"] == b["metadata"]["name"])


def _ref(doc: dict[str, Any]) -> str:
    return f"{doc['kind']}/{doc['metadata']['name']}"


def find(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    return dict(doc["spec"]["template"]["spec"])


def containers(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for d in docs if d["kind"] in ("Deployment", "Job")
            for c in pod_spec(d)["containers"]]


def topics_script() -> Path:
    return REPO / "deploy" / "kafka" / "create-topics.sh"


def script_topics(text: str) -> dict[str, tuple[int, int]]:
    """topic -> (partitions, retention ms) from the script's TOPICS table."""
    table = re.search(r'TOPICS="\n(.*?)\n"', text, re.S)
    assert table, "no TOPICS table in create-topics.sh"
    rows = [line.split() for line in table.group(1).splitlines() if line.strip()]
    return {name: (int(parts), int(retention)) for name, parts, retention in rows}
