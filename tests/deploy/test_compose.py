"""docker-compose.yml, checked without a Docker engine: the Compose CLI validates and resolves
it, and the tests hold it against the services' own settings, ports and topics."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from oncoroute_shared.cli.main import load_spec
from oncoroute_shared.topics import ALL_TOPICS

from .manifests import (
    BIN,
    REPO,
    SERVICES,
    compose,
    compose_model,
    load_settings,
    script_topics,
    setting_names,
    topics_script,
)

pytestmark = pytest.mark.unit
ENV_EXAMPLE = REPO / ".env.example"
PINNED_TAG = re.compile(r"^v?\d+\.\d+(\.\d+)?([.-][\w.-]+)?$")  # 4.1.0, v3.5.0, 17.6-bookworm


@pytest.fixture(scope="module")
def model() -> dict[str, Any]:
    return compose_model(ENV_EXAMPLE)


@pytest.fixture(scope="module")
def services(model: dict[str, Any]) -> dict[str, Any]:
    return dict(model["services"])


def test_compose_accepts_the_file_with_and_without_an_env_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    for env_file in (ENV_EXAMPLE, empty):
        out = compose("config", "--quiet", env_file=env_file)
        assert out.returncode == 0, out.stderr
    # and the CLI does reject a broken file (the check above is not vacuous)
    broken = tmp_path / "docker-compose.yml"
    broken.write_text((REPO / "docker-compose.yml").read_text()
                      .replace("restart: unless-stopped", "restrat: unless-stopped", 1))
    out = subprocess.run([str(BIN / "docker-compose"), "-f", str(broken), "config", "--quiet"],
                         capture_output=True, text=True, cwd=REPO)
    assert out.returncode != 0 and "restrat" in out.stderr


def test_the_whole_system_is_in_the_stack(services: dict[str, Any]) -> None:
    assert set(services) == {*SERVICES, "kafka", "kafka-init", "postgres", "prometheus",
                             "grafana", "mailpit"}
    for name in SERVICES:
        assert services[name]["command"] == ["oncoroute", "run", name]
        assert services[name]["image"] == services["intake"]["image"]  # one image, see Dockerfile


def test_every_container_has_a_healthcheck_and_waits_for_healthy_dependencies(
        services: dict[str, Any]) -> None:
    one_shots = {n for n, s in services.items() if s.get("restart") == "no"}
    assert one_shots == {"kafka-init"}
    for name, svc in services.items():
        if name not in one_shots:
            check = svc.get("healthcheck", {})
            assert check.get("test") and not check.get("disable"), f"{name} has no healthcheck"
        for dep, cond in svc.get("depends_on", {}).items():
            wanted = ("service_completed_successfully" if dep in one_shots
                      else "service_healthy")
            assert cond["condition"] == wanted, f"{name} -> {dep}: {cond['condition']}"
    for name in SERVICES:
        assert services[name]["depends_on"].keys() >= {"kafka-init", "postgres"}
        assert services[name]["healthcheck"]["test"][-1] == "/readyz"
    assert services["notify"]["depends_on"]["mailpit"]["condition"] == "service_healthy"


def test_every_image_is_pinned(services: dict[str, Any]) -> None:
    for name, svc in services.items():
        image, _, tag = svc["image"].rpartition(":")
        assert image and tag and tag != "latest", f"{name}: {svc['image']} is not pinned"
        if "build" not in svc:
            assert PINNED_TAG.match(tag), f"{name}: {svc['image']} is not an exact version"
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["postgres"]["image"].startswith("postgres:")


@pytest.mark.parametrize("service", SERVICES)
def test_service_environment_names_only_settings_the_service_has(
        services: dict[str, Any], service: str) -> None:
    env = services[service]["environment"]
    unknown = set(env) - setting_names(service)
    assert not unknown, f"{service} sets names it never reads: {sorted(unknown)}"
    assert env["HTTP_HOST"] == "0.0.0.0"  # a container must listen beyond loopback


@pytest.mark.parametrize("service", SERVICES)
def test_service_environment_values_pass_the_service_s_validation(
        services: dict[str, Any], service: str) -> None:
    settings = load_settings(service, services[service]["environment"])
    assert settings.kafka_bootstrap_servers == "kafka:9092"
    assert settings.kafka_enable_idempotence is True
    assert settings.database_url.startswith("postgresql://oncoroute:")


def test_database_and_broker_addresses_match_their_containers(services: dict[str, Any]) -> None:
    pg = services["postgres"]["environment"]
    url = services["intake"]["environment"]["DATABASE_URL"]
    assert url == (f"postgresql://{pg['POSTGRES_USER']}:{pg['POSTGRES_PASSWORD']}"
                   f"@postgres:5432/{pg['POSTGRES_DB']}")
    kafka = services["kafka"]["environment"]
    assert "PLAINTEXT://kafka:9092" in kafka["KAFKA_ADVERTISED_LISTENERS"]
    assert kafka["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert kafka["KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE"] == "false"
    assert {v["target"] for v in services["kafka"]["volumes"]} == {"/var/lib/kafka/data"}
    notify = services["notify"]["environment"]
    assert notify["SMTP_HOST"] == "mailpit"
    assert notify["SMTP_PORT"] in services["mailpit"]["expose"]


@pytest.mark.parametrize("service", SERVICES)
def test_ports_agree_with_the_service_defaults(services: dict[str, Any], service: str) -> None:
    port = load_spec(service).default_port
    svc = services[service]
    assert svc["environment"][f"{service.upper()}_PORT"] == str(port)
    assert [(p["target"], p["published"], p["host_ip"]) for p in svc["ports"]] == [
        (port, str(port), "127.0.0.1")]
    scrape = (REPO / "deploy/prometheus/prometheus.yml").read_text()
    assert f'"{service}:{port}"' in scrape


def test_every_published_port_is_bound_to_loopback(services: dict[str, Any]) -> None:
    for name, svc in services.items():
        for port in svc.get("ports", []):
            assert port["host_ip"] == "127.0.0.1", f"{name} publishes {port} on every interface"


def test_every_mounted_path_exists_and_data_lives_in_named_volumes(
        model: dict[str, Any], services: dict[str, Any]) -> None:
    for name, svc in services.items():
        for volume in svc.get("volumes", []):
            if volume["type"] == "bind":
                assert Path(volume["source"]).exists(), f"{name}: {volume['source']} missing"
                assert Path(volume["source"]).is_relative_to(REPO)
    data = {s: {v["source"] for v in services[s]["volumes"] if v["type"] == "volume"}
            for s in ("kafka", "postgres")}
    assert data == {"kafka": {"kafka-data"}, "postgres": {"postgres-data"}}
    assert {"kafka-data", "postgres-data"} <= set(model["volumes"])


def test_env_example_names_every_variable_the_file_uses_and_no_other() -> None:
    used = set(re.findall(r"\$\{([A-Z0-9_]+)(?::?-[^}]*)?\}",
                          (REPO / "docker-compose.yml").read_text()))
    example = {line.split("=", 1)[0] for line in ENV_EXAMPLE.read_text().splitlines()
               if line and not line.startswith("#")}
    assert used == example


def test_env_example_values_are_the_compose_defaults(tmp_path: Path) -> None:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    assert compose_model(empty)["services"] == compose_model(ENV_EXAMPLE)["services"]


def test_topic_init_creates_every_topic_the_system_uses(services: dict[str, Any]) -> None:
    topics = script_topics(topics_script().read_text())
    assert set(topics) == {t.value for t in ALL_TOPICS}
    init = services["kafka-init"]
    assert init["image"] == services["kafka"]["image"]
    mounted = {v["source"]: v["target"] for v in init["volumes"]}
    assert mounted[str(topics_script())] == init["entrypoint"][-1]
    assert subprocess.run(["bash", "-n", str(topics_script())]).returncode == 0
    # the services would create a missing topic with KAFKA_TOPIC_PARTITIONS: the same count
    working = {p for name, (p, _) in topics.items() if name != "dead-letters"}
    assert {str(p) for p in working} == {services["intake"]["environment"]
                                         ["KAFKA_TOPIC_PARTITIONS"]}


def test_prometheus_and_grafana_find_their_files_where_they_are_mounted(
        services: dict[str, Any]) -> None:
    def mounts(name: str) -> dict[str, Path]:
        return {v["target"]: Path(v["source"]) for v in services[name]["volumes"]
                if v["type"] == "bind"}

    prometheus = mounts("prometheus")
    config_dir = prometheus["/etc/prometheus"]
    config = yaml.safe_load((config_dir / "prometheus.yml").read_text())
    for pattern in config.get("rule_files", []):
        assert list(config_dir.glob(pattern)), f"rule file {pattern} is not in {config_dir}"
    grafana = mounts("grafana")
    provisioning = grafana["/etc/grafana/provisioning"]
    for provider_file in (provisioning / "dashboards").glob("*.yml"):
        for provider in yaml.safe_load(provider_file.read_text())["providers"]:
            assert provider["options"]["path"] in grafana, provider["options"]["path"]
    (datasource,) = yaml.safe_load(
        (provisioning / "datasources" / "prometheus.yml").read_text())["datasources"]
    assert datasource["url"] == "http://prometheus:9090"
