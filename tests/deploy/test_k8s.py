"""deploy/k8s rendered as kustomize would, validated against the Kubernetes JSON schemas
(kubernetes-validate, strict: unknown fields fail) and held against the services' settings,
ports, policy, topics and consumer groups."""

from __future__ import annotations

import json
import re
from typing import Any

import kubernetes_validate
import pytest
import yaml

from oncoroute_shared.cli.main import load_spec
from oncoroute_shared.docs.generate import service_parts
from oncoroute_shared.runtime import build_broker

from .manifests import (
    K8S,
    SERVICES,
    containers,
    find,
    load_documents,
    load_settings,
    pod_spec,
    render,
    script_topics,
    setting_names,
    topics_script,
)

pytestmark = pytest.mark.unit
KUBERNETES_VERSIONS = ("1.31.0", kubernetes_validate.latest_version())
SECRET_NAMES = re.compile(r"PASSWORD|SECRET|TOKEN|DATABASE_URL|_KEY$|USERNAME")


@pytest.fixture(scope="module")
def base() -> list[dict[str, Any]]:
    return render(K8S / "base")


@pytest.fixture(scope="module")
def production() -> list[dict[str, Any]]:
    return render(K8S / "overlays" / "production")


@pytest.fixture(scope="module")
def secrets() -> dict[str, dict[str, str]]:
    docs = load_documents(K8S / "examples" / "secrets.example.yaml")
    return {d["metadata"]["name"]: d["stringData"] for d in docs}


@pytest.mark.parametrize("kustomization", ["base", "overlays/production"])
def test_manifests_are_valid_kubernetes_objects(kustomization: str) -> None:
    docs = render(K8S / kustomization)
    docs += load_documents(K8S / "examples" / "secrets.example.yaml")
    for version in KUBERNETES_VERSIONS:
        for doc in docs:
            kubernetes_validate.validate(doc, version, strict=True)


def test_validation_rejects_a_misspelt_field(base: list[dict[str, Any]]) -> None:
    broken = json.loads(json.dumps(find(base, "Deployment", "intake")))
    pod_spec(broken)["containers"][0]["readinessProbe"]["httpGett"] = {"path": "/readyz"}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[-1], strict=True)


def test_every_manifest_file_is_in_its_kustomization() -> None:
    for directory in (K8S / "base", K8S / "overlays" / "production", K8S / "monitoring"):
        kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
        listed = set(kustomization.get("resources", []))
        listed |= {p["path"] for p in kustomization.get("patches", [])}
        files = {p.name for p in directory.glob("*.yaml")} - {"kustomization.yaml"}
        files -= {"prometheus-adapter-values.yaml"}  # Helm values, not a resource
        assert files == {r for r in listed if not r.startswith("..")}, directory


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_has_deployment_service_autoscaler_and_disruption_budget(
        base: list[dict[str, Any]], service: str) -> None:
    deployment = find(base, "Deployment", service)
    pod = pod_spec(deployment)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert _selects(deployment["spec"]["selector"]["matchLabels"], labels)
    (container,) = pod["containers"]
    assert container["command"] == ["oncoroute", "run", service]
    port = load_spec(service).default_port
    assert container["ports"] == [{"name": "http", "containerPort": port, "protocol": "TCP"}]
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    for kind in ("requests", "limits"):
        assert set(container["resources"][kind]) == {"cpu", "memory"}

    svc = find(base, "Service", service)
    assert _selects(svc["spec"]["selector"], labels)
    assert [(p["name"], p["port"], p["targetPort"]) for p in svc["spec"]["ports"]] == [
        ("http", port, "http")]  # `http` is also the ServiceMonitor's metrics port
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(port)

    hpa = find(base, "HorizontalPodAutoscaler", service)
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                             "name": service}
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]
    partitions = min(p for p, _ in script_topics(topics_script().read_text()).values()
                     if p > 3)
    assert 2 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"] <= partitions

    pdb = find(base, "PodDisruptionBudget", service)
    assert _selects(pdb["spec"]["selector"]["matchLabels"], labels)
    assert pdb["spec"]["maxUnavailable"] == 1


@pytest.mark.parametrize("service", SERVICES)
def test_environment_names_only_settings_the_service_has_and_values_validate(
        base: list[dict[str, Any]], secrets: dict[str, dict[str, str]], service: str) -> None:
    env = _environment(base, find(base, "Deployment", service), secrets)
    unknown = set(env) - setting_names(service)
    assert not unknown, f"{service} sets names it never reads: {sorted(unknown)}"
    settings = load_settings(service, env)
    assert settings.kafka_security_protocol == "SASL_SSL"
    assert settings.kafka_sasl_mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-512")
    assert settings.kafka_enable_idempotence is True
    assert settings.kafka_replication_factor == 3
    assert settings.http_host == "0.0.0.0"
    assert env[f"{service.upper()}_PORT"] == str(load_spec(service).default_port)


def test_credentials_come_only_from_secrets(base: list[dict[str, Any]]) -> None:
    for container in containers(base):
        for var in container.get("env", []):
            if SECRET_NAMES.search(var["name"]):
                assert "secretKeyRef" in var.get("valueFrom", {}), var["name"]
    for config in (d for d in base if d["kind"] == "ConfigMap"):
        leaked = [k for k in config["data"] if SECRET_NAMES.search(k)]
        assert not leaked, f"{config['metadata']['name']} holds {leaked}"
    assert not [d for d in base if d["kind"] == "Secret"]  # created from a secret store


def test_policy_config_map_passes_every_service_s_policy_validation(
        base: list[dict[str, Any]]) -> None:
    config = find(base, "ConfigMap", "oncoroute-env")["data"]
    policy = find(base, "ConfigMap", "oncoroute-policy")
    for deployment in (find(base, "Deployment", s) for s in SERVICES):
        mounts = {m["name"]: m["mountPath"] for m in pod_spec(deployment)["containers"][0]
                  ["volumeMounts"]}
        volumes = {v["name"]: v for v in pod_spec(deployment)["volumes"]}
        assert volumes["policy"]["configMap"]["name"] == "oncoroute-policy"
        assert config["ONCOROUTE_POLICY"] == f"{mounts['policy']}/policy.yaml"
    doc = yaml.safe_load(policy["data"]["policy.yaml"])
    for service in SERVICES:
        load_spec(service).validate_policy(doc)  # raises naming the key on a bad policy


def test_production_kafka_settings(base: list[dict[str, Any]]) -> None:
    job = find(base, "Job", "oncoroute-kafka-topics")
    env = {e["name"]: e.get("value") for e in pod_spec(job)["containers"][0]["env"]}
    assert env["KAFKA_REPLICATION_FACTOR"] == "3"
    assert env["KAFKA_MIN_INSYNC_REPLICAS"] == "2"
    script = find(base, "ConfigMap", "oncoroute-kafka-topics")["data"]["create-topics.sh"]
    assert script == topics_script().read_text()
    assert "unclean.leader.election.enable=false" in script
    volumes = {v["name"]: v for v in pod_spec(job)["volumes"]}
    assert volumes["kafka-admin"]["secret"]["secretName"] == "oncoroute-kafka-admin"


def test_every_pod_meets_the_restricted_pod_security_standard(
        base: list[dict[str, Any]]) -> None:
    namespace = find(base, "Namespace", "oncoroute")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for workload in (d for d in base if d["kind"] in ("Deployment", "Job")):
        pod = pod_spec(workload)
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["readOnlyRootFilesystem"] is True
            assert context["capabilities"] == {"drop": ["ALL"]}
            image, _, tag = container["image"].rpartition(":")
            assert image and tag and tag != "latest"


def test_each_workload_reaches_only_kafka_postgres_dns_and_its_own_channel(
        base: list[dict[str, Any]]) -> None:
    policies = [d for d in base if d["kind"] == "NetworkPolicy"]
    deny = find(base, "NetworkPolicy", "default-deny")["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    kafka_port = int(find(base, "ConfigMap", "oncoroute-env")["data"]
                     ["KAFKA_BOOTSTRAP_SERVERS"].rpartition(":")[2])
    core = {"kube-system:UDP/53", "kube-system:TCP/53", f"kafka:TCP/{kafka_port}",
            "postgres:TCP/5432"}
    expected = {"intake": core, "matcher": core, "sla": core,
                "notify": core | {"0.0.0.0/0:TCP/587", "0.0.0.0/0:TCP/443"},
                "oncoroute-kafka-topics": core - {"postgres:TCP/5432"}}
    for workload in (d for d in base if d["kind"] in ("Deployment", "Job")):
        labels = workload["spec"]["template"]["metadata"]["labels"]
        allowed = {dest for p in policies if _selects(p["spec"]["podSelector"].get(
            "matchLabels", {}), labels) for dest in _egress(p["spec"])}
        assert allowed == expected[workload["metadata"]["name"]], workload["metadata"]["name"]
    notify = find(base, "Deployment", "notify")
    assert {e["name"]: e.get("value") for e in pod_spec(notify)["containers"][0]["env"]}[
        "SMTP_PORT"] == "587"


def test_services_accept_http_only_from_the_ingress_controller_and_prometheus(
        base: list[dict[str, Any]]) -> None:
    ingress = [d for d in base if d["kind"] == "NetworkPolicy"
               and "Ingress" in d["spec"]["policyTypes"] and d["spec"].get("ingress")]
    assert [p["metadata"]["name"] for p in ingress] == ["allow-http-in"]
    rule = ingress[0]["spec"]
    sources = {f["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
               for f in rule["ingress"][0]["from"]}
    assert sources == {"ingress-nginx", "monitoring"}
    assert rule["ingress"][0]["ports"] == [{"protocol": "TCP", "port": "http"}]
    for service in SERVICES:
        labels = find(base, "Deployment", service)["spec"]["template"]["metadata"]["labels"]
        assert _selects(rule["podSelector"]["matchLabels"], labels)


@pytest.mark.parametrize("service", SERVICES)
def test_production_overlay_scales_on_consumer_lag_from_three_replicas(
        production: list[dict[str, Any]], service: str) -> None:
    hpa = find(production, "HorizontalPodAutoscaler", service)["spec"]
    assert hpa["minReplicas"] == 3
    kinds = {m["type"]: m for m in hpa["metrics"]}
    assert kinds["Resource"]["resource"]["name"] == "cpu"
    lag = kinds["External"]["external"]["metric"]
    assert lag == {"name": "oncoroute_consumer_lag", "selector": {"matchLabels": {
        "service": service}}}
    deployment = find(production, "Deployment", service)
    (container,) = pod_spec(deployment)["containers"]
    assert container["image"] == "registry.example.org/oncoroute:0.1.0"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"  # patch kept the rest
    assert deployment["metadata"]["namespace"] == "oncoroute"


def test_lag_recording_rule_maps_every_consumer_group_to_its_service() -> None:
    rule = load_documents(K8S / "monitoring" / "prometheusrule.yaml")[0]
    (record,) = rule["spec"]["groups"][0]["rules"]
    assert record["record"] == "oncoroute_consumer_lag"
    pattern = re.findall(r'"consumergroup", "([^"]+)"', record["expr"])[0]
    adapter = yaml.safe_load((K8S / "monitoring" / "prometheus-adapter-values.yaml").read_text())
    assert adapter["rules"]["external"][0]["name"]["as"] == "oncoroute_consumer_lag"
    for service, (spec, runtime, parts) in service_parts().items():
        broker = build_broker(spec, runtime, parts)  # the groups the services really join
        groups = {sub.group_id for sub in broker.subscribers}
        assert groups, service
        for group in groups:
            match = re.fullmatch(pattern, group)
            assert match and match.group(1) == service, group


def test_service_monitor_scrapes_every_service_s_metrics_port(
        base: list[dict[str, Any]]) -> None:
    docs = render(K8S / "monitoring")
    monitor = find(docs, "ServiceMonitor", "oncoroute")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"  # a CRD: no built-in schema
    (endpoint,) = monitor["spec"]["endpoints"]
    for svc in (find(base, "Service", s) for s in SERVICES):
        assert _selects(monitor["spec"]["selector"]["matchLabels"], svc["metadata"]["labels"])
        assert endpoint["port"] in {p["name"] for p in svc["spec"]["ports"]}
    assert endpoint["path"] == "/metrics"


# ---- helpers ----------------------------------------------------------------------------

def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def _environment(docs: list[dict[str, Any]], deployment: dict[str, Any],
                 secrets: dict[str, dict[str, str]]) -> dict[str, str]:
    """The container's environment as the kubelet would build it, secrets from the examples."""
    (container,) = pod_spec(deployment)["containers"]
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(find(docs, "ConfigMap", source["configMapRef"]["name"])["data"])
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = var["value"]
        elif ref := var["valueFrom"].get("secretKeyRef"):
            value = secrets[ref["name"]].get(ref["key"])
            assert value is not None or ref.get("optional"), f"{ref} is not in the examples"
            if value is not None:
                env[var["name"]] = value
        else:
            ref = var["valueFrom"]["configMapKeyRef"]
            env[var["name"]] = find(docs, "ConfigMap", ref["name"])["data"][ref["key"]]
    return env


def _egress(spec: dict[str, Any]) -> set[str]:
    """Each egress rule as destination:PROTO/port; a rule without `to` or ports is refused."""
    out = set()
    for rule in spec.get("egress", []):
        assert rule.get("to") and rule.get("ports"), f"open egress rule: {rule}"
        for peer in rule["to"]:
            if "ipBlock" in peer:
                where = peer["ipBlock"]["cidr"]
            else:
                where = peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
            out |= {f"{where}:{p['protocol']}/{p['port']}" for p in rule["ports"]}
    return out
