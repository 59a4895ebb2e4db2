"""deploy/ checked offline, the way a cluster and compose would check it.

kubectl and kustomize may not be installed where the tests run, so the
Kubernetes manifests are rendered here from kustomization.yaml (only the
kustomize features deploy/ uses; an unknown one fails the render rather than
being ignored). Core kinds are validated with kubernetes-validate, strictly
(an unknown field fails, as `kubectl apply`'s field validation does); KEDA's
and the Prometheus Operator's kinds, and compose.yaml, against the schemas in
tests/deploy/schemas (README.md there says where each comes from). Alert and
dashboard queries are parsed with a PromQL parser and may use only the metrics
of the ops contract (and the few that Prometheus, kube-state-metrics and
cAdvisor provide).
"""
import importlib
import json
import re
import subprocess
from pathlib import Path

import jsonschema
import kubernetes_validate
import promql_parser
import pytest
import yaml

from dealerflow.contracts import INTAKE_QUEUE
from dealerflow.messaging import queues_of

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SCHEMAS = Path(__file__).with_name("schemas")
KUBERNETES_VERSION = "1.30"
SERVICES = ("customers", "leads", "followups", "notifications")
OPS_PORT = 9100

CONTRACT_METRICS = {
    "dealerflow_rpc_requests_total", "dealerflow_deliveries_total",
    "dealerflow_queue_depth", "dealerflow_parked_messages",
    "dealerflow_outbox_backlog", "dealerflow_outbox_oldest_age_seconds",
    "dealerflow_workers_in_flight", "dealerflow_oldest_worker_age_seconds",
    "dealerflow_sla_warnings_total", "dealerflow_sla_breaches_total",
    "dealerflow_reminders_fired_total", "dealerflow_notifications_total",
    "dealerflow_channel_circuit_open", "dealerflow_http_requests_total",
    "dealerflow_intake_total", "dealerflow_stream_connections",
}
CONTRACT_HISTOGRAMS = {
    "dealerflow_rpc_duration_seconds", "dealerflow_delivery_duration_seconds",
    "dealerflow_delivery_age_seconds", "dealerflow_assignment_latency_seconds",
    "dealerflow_reminder_lateness_seconds", "dealerflow_http_request_duration_seconds",
}
# Not Dealerflow's: Prometheus' own, kube-state-metrics', cAdvisor's.
PLATFORM_METRICS = {"up", "kube_deployment_status_replicas_unavailable",
                    "container_cpu_usage_seconds_total"}
KNOWN_METRICS = (CONTRACT_METRICS | PLATFORM_METRICS | {
    f"{name}{suffix}" for name in CONTRACT_HISTOGRAMS for suffix in ("_bucket", "_sum", "_count")})

CONTRACT_ALERTS = {
    "DealerflowServiceDown", "DealerflowNotReady", "DealerflowHungWorker",
    "DealerflowParkedMessages", "DealerflowQueueGrowing", "DealerflowOutboxBacklog",
    "DealerflowSlaBreachesAboveNorm", "DealerflowRemindersLate",
    "DealerflowChannelCircuitOpen", "DealerflowIntakeErrors", "DealerflowAssignmentSlow",
}

CUSTOM_SCHEMAS = {
    ("keda.sh/v1alpha1", "ScaledObject"): "scaledobject-keda-v1alpha1.json",
    ("keda.sh/v1alpha1", "TriggerAuthentication"): "triggerauthentication-keda-v1alpha1.json",
    ("monitoring.coreos.com/v1", "PodMonitor"): "podmonitor-monitoring-v1.json",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "prometheusrule-monitoring-v1.json",
}


# -- rendering kustomize ---------------------------------------------------------

def render(directory: Path) -> list[dict]:
    """What `kubectl kustomize directory` makes, for the features deploy/ uses:
    resources (files and kustomization directories), strategic-merge patches
    with a kind and label target, and ConfigMap/Secret generators with fixed
    names. A Secret's env file is read from its `.example` (the real one is
    git-ignored), so the rendered Secret has the keys and no values."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    understood = {"apiVersion", "kind", "resources", "patches", "configMapGenerator",
                  "secretGenerator", "generatorOptions"}
    assert set(kustomization) <= understood, f"teach render() {set(kustomization) - understood}"
    assert not (kustomization.keys() & {"configMapGenerator", "secretGenerator"}) or \
        kustomization["generatorOptions"] == {"disableNameSuffixHash": True}
    objects = []
    for entry in kustomization.get("resources", []):
        path = directory / entry
        objects += render(path) if path.is_dir() else \
            [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    for kind, key in (("ConfigMap", "configMapGenerator"), ("Secret", "secretGenerator")):
        objects += [generate(directory, kind, args) for args in kustomization.get(key, [])]
    for patch in kustomization.get("patches", []):
        body = yaml.safe_load((directory / patch["path"]).read_text())
        body = {key: value for key, value in body.items() if key != "metadata"}
        objects = [merge(obj, body) if targeted(obj, patch["target"]) else obj
                   for obj in objects]
    return objects


def generate(directory: Path, kind: str, args: dict) -> dict:
    data = {Path(name).name: (directory / name).read_text() for name in args.get("files", [])}
    for name in args.get("envs", []):
        for line in (directory / f"{name}.example").read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                key, _, value = line.partition("=")
                data[key] = value
    generated = {"apiVersion": "v1", "kind": kind, "data": data,
                 "metadata": {"name": args["name"], "namespace": args["namespace"],
                              "labels": args.get("options", {}).get("labels", {})}}
    return {**generated, "type": "Opaque"} if kind == "Secret" else generated


def targeted(obj: dict, target: dict) -> bool:
    key, _, value = target["labelSelector"].partition("=")
    return obj["kind"] == target["kind"] and obj["metadata"].get("labels", {}).get(key) == value


def merge(base, patch):
    """A strategic merge: maps merge, lists of named items merge by name."""
    if isinstance(base, dict) and isinstance(patch, dict):
        return {**base, **{key: merge(base[key], value) if key in base else value
                           for key, value in patch.items()}}
    if isinstance(base, list) and isinstance(patch, list) and \
            all(isinstance(item, dict) and "name" in item for item in base + patch):
        patched = {item["name"]: item for item in patch}
        return [merge(item, patched.pop(item["name"])) if item["name"] in patched else item
                for item in base] + list(patched.values())
    return patch


OBJECTS = render(DEPLOY / "k8s")


def the(kind: str, name: str) -> dict:
    [obj] = [o for o in OBJECTS if o["kind"] == kind and o["metadata"]["name"] == name]
    return obj


def of_kind(kind: str) -> list[dict]:
    return [o for o in OBJECTS if o["kind"] == kind]


def strict(schema):
    """The schema with unknown fields refused, as the API server's strict
    field validation does (the CRD schemas leave additionalProperties open)."""
    if isinstance(schema, dict):
        schema = {key: strict(value) for key, value in schema.items()}
        if "properties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
    elif isinstance(schema, list):
        schema = [strict(item) for item in schema]
    return schema


def load_schema(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text())


# -- every object valid ----------------------------------------------------------

@pytest.mark.parametrize("obj", OBJECTS, ids=lambda o: f"{o['kind']}/{o['metadata']['name']}")
def test_every_manifest_is_valid_for_its_kind(obj):
    schema = CUSTOM_SCHEMAS.get((obj["apiVersion"], obj["kind"]))
    if schema:
        jsonschema.Draft7Validator(strict(load_schema(schema))).validate(obj)
    else:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_the_render_holds_every_kind_deploy_uses():
    kinds = sorted({obj["kind"] for obj in OBJECTS})
    assert kinds == ["ConfigMap", "Deployment", "HorizontalPodAutoscaler", "Job", "Namespace",
                     "PodDisruptionBudget", "PodMonitor", "PrometheusRule", "ScaledObject",
                     "Secret", "Service", "TriggerAuthentication"]


def test_a_misspelt_field_is_refused():
    scaled = the("ScaledObject", "leads")
    typo = {**scaled, "spec": {**scaled["spec"], "minReplicas": 2}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(strict(load_schema(CUSTOM_SCHEMAS[
            ("keda.sh/v1alpha1", "ScaledObject")]))).validate(typo)
    deployment = the("Deployment", "leads")
    typo = merge(deployment, {"spec": {"template": {"spec": {"containers": [
        {"name": "service", "livenesProbe": {}}]}}}})
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(typo, KUBERNETES_VERSION, strict=True)


# -- the services and the gateway ------------------------------------------------

def container(deployment: dict) -> dict:
    [only] = deployment["spec"]["template"]["spec"]["containers"]
    return only


def selects(selector: dict, deployment: dict) -> bool:
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    return selector["matchLabels"].items() <= labels.items()


def assert_sized_and_protected(deployment: dict):
    name = deployment["metadata"]["name"]
    resources = container(deployment)["resources"]
    assert {"cpu", "memory"} <= resources["requests"].keys()
    assert {"cpu", "memory"} <= resources["limits"].keys()
    assert deployment["spec"]["strategy"] == {
        "type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
    budgets = [b for b in of_kind("PodDisruptionBudget") if selects(b["spec"]["selector"], deployment)]
    assert len(budgets) == 1, f"{name} has {len(budgets)} PodDisruptionBudgets"
    assert {"name": "metrics", "containerPort": OPS_PORT} in container(deployment)["ports"]


@pytest.mark.parametrize("name", SERVICES)
def test_a_service_is_probed_on_its_ops_server(name):
    deployment = the("Deployment", name)
    app = container(deployment)
    assert app["command"] == ["python", "-m", f"services.{name}"]
    assert {"name": "OPS_PORT", "value": str(OPS_PORT)} in app["env"]
    for probe, path in (("startupProbe", "/healthz"), ("livenessProbe", "/healthz"),
                        ("readinessProbe", "/readyz")):
        assert app[probe]["httpGet"] == {"path": path, "port": "metrics"}
    # a service exits within 30 s of SIGTERM, having finished its work
    assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > 30
    assert "replicas" not in deployment["spec"]
    assert_sized_and_protected(deployment)


def test_the_gateway_keeps_its_probes_and_its_cpu_autoscaler():
    deployment = the("Deployment", "gateway")
    app = container(deployment)
    assert app["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert app["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    multiproc = {e["name"]: e["value"] for e in app["env"]}["PROMETHEUS_MULTIPROC_DIR"]
    assert multiproc in {m["mountPath"] for m in app["volumeMounts"]}
    assert_sized_and_protected(deployment)
    hpa = the("HorizontalPodAutoscaler", "gateway")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "gateway"
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]
    assert [h["metadata"]["name"] for h in of_kind("HorizontalPodAutoscaler")] == ["gateway"]


def consumed_queues(name: str) -> set[str]:
    module = importlib.import_module(f"services.{name}.service")
    [service] = [value for value in vars(module).values()
                 if isinstance(value, type) and getattr(value, "name", None) == name]
    return {queue.name for queue in queues_of(service)} | {f"rpc-{name}"}


@pytest.mark.parametrize("name", SERVICES)
def test_a_service_scales_on_queues_it_really_consumes(name):
    scaled = the("ScaledObject", name)["spec"]
    assert scaled["scaleTargetRef"] == {"name": name}
    assert (scaled["minReplicaCount"], scaled["maxReplicaCount"]) == \
        ((2, 6) if name == "leads" else (1, 6))
    auths = {a["metadata"]["name"] for a in of_kind("TriggerAuthentication")}
    queues = set()
    for trigger in scaled["triggers"]:
        assert trigger["type"] == "rabbitmq"
        assert trigger["metadata"]["mode"] == "QueueLength"
        assert trigger["authenticationRef"]["name"] in auths
        queues.add(trigger["metadata"]["queueName"])
    assert queues <= consumed_queues(name)
    if name == "leads":
        assert INTAKE_QUEUE in queues


def test_keda_reads_the_broker_address_from_the_secret():
    [auth] = of_kind("TriggerAuthentication")
    [ref] = auth["spec"]["secretTargetRef"]
    assert ref["parameter"] == "host"
    assert ref["key"] in the("Secret", ref["name"])["data"]


def test_every_pod_reads_the_settings_and_runs_on_quorum_queues():
    config = the("ConfigMap", "dealerflow-config")["data"]
    assert config["QUEUE_TYPE"] == "quorum"
    assert config["LOG_FORMAT"] == "json"
    for workload in of_kind("Deployment") + of_kind("Job"):
        sources = container(workload)["envFrom"]
        assert {"configMapRef": {"name": "dealerflow-config"}} in sources
        assert {"secretRef": {"name": "dealerflow-secrets"}} in sources


# -- no secret in the repository -------------------------------------------------

SECRET_NAME = re.compile(r"PASS|SECRET|TOKEN|_KEY$|DATABASE_URL$|AMQP_URI$")
CREDENTIALS = re.compile(r"://[^/\s:@]+:(\$\{[^}]*\}|[^@\s]+)@")
REQUIRED_VARIABLE = re.compile(r"\$\{\w+:\?[^}]*\}")


def strings(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, str):
        yield value


def test_no_secret_is_written_in_the_manifests():
    for secret in of_kind("Secret"):
        assert not secret.get("stringData") and not any(secret["data"].values())
    for text in strings(OBJECTS):
        assert not CREDENTIALS.search(text), text
    for config in of_kind("ConfigMap"):
        assert not [key for key in config["data"] if SECRET_NAME.search(key)]
    for workload in of_kind("Deployment") + of_kind("Job"):
        for variable in container(workload).get("env", []):
            assert not SECRET_NAME.search(variable["name"]), variable


def test_compose_takes_every_secret_from_the_environment_without_a_default():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    for service in compose["services"].values():
        for key, value in service.get("environment", {}).items():
            for password in CREDENTIALS.findall(value):
                assert REQUIRED_VARIABLE.fullmatch(password), f"{key}: {value}"
            if SECRET_NAME.search(key) and not CREDENTIALS.search(value):
                assert REQUIRED_VARIABLE.fullmatch(value), f"{key}: {value}"


def test_the_secret_files_stay_out_of_git_and_the_example_has_no_value():
    example = (DEPLOY / "k8s" / "secrets.env.example").read_text()
    entries = [line for line in example.splitlines() if line and not line.startswith("#")]
    assert entries and all(re.fullmatch(r"[A-Z_]+=", line) for line in entries)
    for secrets in ("deploy/k8s/secrets.env", "deploy/.env"):
        ignored = subprocess.run(["git", "check-ignore", "-q", secrets], cwd=ROOT)
        assert ignored.returncode == 0, f"git would take {secrets}"


# -- compose ---------------------------------------------------------------------

def test_compose_is_valid_and_every_process_has_a_healthcheck():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    jsonschema.Draft202012Validator(load_schema("compose-spec.json")).validate(compose)
    for name in (*SERVICES, "gateway"):
        service = compose["services"][name]
        port = 8000 if name == "gateway" else service["environment"]["OPS_PORT"]
        assert f"http://127.0.0.1:{port}/healthz" in " ".join(service["healthcheck"]["test"])
        assert service["environment"]["QUEUE_TYPE"] == "quorum"
        assert service["environment"]["LOG_FORMAT"] == "json"


def test_a_compose_file_with_a_mistake_is_refused():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    compose["services"]["leads"]["healthcheck"]["retry"] = 3
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(load_schema("compose-spec.json")).validate(compose)


# -- monitoring ------------------------------------------------------------------

def metrics_of(query: str) -> set[str]:
    names = set()
    promql_parser.walk(promql_parser.parse(query), lambda node: names.add(node.name)
                       if isinstance(node, promql_parser.VectorSelector) else None)
    return names


def test_every_dealerflow_pod_is_scraped_on_its_metrics_port():
    [monitor] = of_kind("PodMonitor")
    assert [e["port"] for e in monitor["spec"]["podMetricsEndpoints"]] == ["metrics"]
    for deployment in of_kind("Deployment"):
        assert selects(monitor["spec"]["selector"], deployment)


def alert_rules() -> list[dict]:
    [rule] = of_kind("PrometheusRule")
    [group] = rule["spec"]["groups"]
    assert group["name"] == "dealerflow"
    return group["rules"]


def test_the_alerts_are_the_contracts_and_each_says_what_to_do():
    rules = alert_rules()
    assert sorted(rule["alert"] for rule in rules) == sorted(CONTRACT_ALERTS)
    for rule in rules:
        annotations = rule["annotations"]
        assert annotations["summary"] and annotations["description"] and rule["for"]
        assert annotations["runbook_url"] == f"docs/operations.md#{rule['alert'].lower()}"
        assert rule["labels"]["severity"] in {"critical", "warning"}


def test_every_alert_has_its_runbook_section_in_the_operations_guide():
    headings = set(re.findall(r"^### (Dealerflow\w+)$", (ROOT / "docs" / "operations.md").read_text(), re.M))
    assert headings == CONTRACT_ALERTS


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule["alert"])
def test_an_alert_query_parses_and_uses_contract_metrics(rule):
    assert metrics_of(rule["expr"]) <= KNOWN_METRICS


def test_a_query_that_does_not_parse_or_uses_another_metric_is_caught():
    with pytest.raises(ValueError):
        metrics_of("sum(rate(dealerflow_intake_total[5m])")
    assert not metrics_of("rate(dealerflow_leads_total[5m])") <= KNOWN_METRICS


DASHBOARD_VARIABLES = {"namespace": "dealerflow", "__rate_interval": "5m"}


def dashboard_queries() -> list[tuple[str, str]]:
    dashboard = json.loads((DEPLOY / "grafana" / "dealerflow.json").read_text())
    return [(panel["title"], target["expr"]) for panel in dashboard["panels"]
            for target in panel.get("targets", [])]


def test_the_dashboard_is_a_grafana_dashboard_in_a_sidecar_configmap():
    dashboard = json.loads((DEPLOY / "grafana" / "dealerflow.json").read_text())
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"]
    panels = dashboard["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels)
    for panel in panels:
        assert panel["type"] == "row" or panel["targets"], panel["title"]
    config = the("ConfigMap", "dealerflow-dashboard")
    assert config["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(config["data"]["dealerflow.json"]) == dashboard
    shown = {name for _, query in dashboard_queries() for name in metrics_of(
        re.sub(r"\$(\w+)", lambda m: DASHBOARD_VARIABLES[m[1]], query))}
    for needed in ("dealerflow_intake_total", "dealerflow_http_request_duration_seconds_bucket",
                   "dealerflow_assignment_latency_seconds_bucket", "dealerflow_queue_depth",
                   "dealerflow_parked_messages", "dealerflow_outbox_backlog",
                   "dealerflow_sla_breaches_total", "dealerflow_reminder_lateness_seconds_bucket",
                   "dealerflow_notifications_total", "dealerflow_stream_connections",
                   "container_cpu_usage_seconds_total"):
        assert needed in shown


@pytest.mark.parametrize("title,query", dashboard_queries(), ids=lambda value: value[:40])
def test_a_dashboard_query_parses_and_uses_contract_metrics(title, query):
    query = re.sub(r"\$(\w+)", lambda m: DASHBOARD_VARIABLES[m[1]], query)
    assert metrics_of(query) <= KNOWN_METRICS
