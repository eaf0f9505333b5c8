"""The deploy files run the split service: web pods without the model, dialogue workers scaled on CPU."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

import yaml

PROJECT = Path(__file__).resolve().parents[2]
K8S = PROJECT / "deploy" / "k8s"
WEB_MODULE = "supportdesk.processes.web"
WORKER_MODULE = "supportdesk.processes.dialogue_worker"


def documents(name: str) -> List[Dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all((K8S / name).read_text()) if doc]


def deployment(name: str) -> Dict[str, Any]:
    return next(doc for doc in documents(name) if doc["kind"] == "Deployment")


def module_of(command: List[str]) -> str:
    return command[command.index("-m") + 1]


def test_kustomize_applies_the_dialogue_deployment_and_its_autoscaler():
    resources = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    assert {"rasa-deployment.yaml", "dialogue-deployment.yaml", "dialogue-hpa.yaml"} <= set(resources)


def test_the_web_pods_run_the_web_process_and_the_dialogue_pods_the_worker():
    web = deployment("rasa-deployment.yaml")["spec"]["template"]["spec"]["containers"][0]
    worker = deployment("dialogue-deployment.yaml")["spec"]["template"]["spec"]["containers"][0]
    assert module_of(web["command"]) == WEB_MODULE
    assert module_of(worker["command"]) == WORKER_MODULE
    assert "readinessProbe" in web and "ports" not in worker
    assert (PROJECT / "supportdesk" / "processes" / "web.py").is_file()
    assert (PROJECT / "supportdesk" / "processes" / "dialogue_worker.py").is_file()


def test_the_dialogue_workers_scale_on_cpu_and_may_reach_the_action_server():
    hpa = documents("dialogue-hpa.yaml")[0]
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "dialogue"}
    assert [metric["resource"]["name"] for metric in hpa["spec"]["metrics"]] == ["cpu"]
    policy = documents("actions-networkpolicy.yaml")[0]
    allowed = [peer["podSelector"]["matchLabels"]["app.kubernetes.io/component"]
               for rule in policy["spec"]["ingress"] for peer in rule["from"]]
    assert sorted(allowed) == ["dialogue", "rasa"]


def test_compose_runs_web_replicas_and_dialogue_workers():
    services = yaml.safe_load((PROJECT / "deploy" / "docker-compose.yml").read_text())["services"]
    assert module_of(services["rasa-1"]["command"]) == WEB_MODULE
    assert module_of(services["rasa-2"]["command"]) == WEB_MODULE
    assert module_of(services["dialogue"]["command"]) == WORKER_MODULE
    assert services["dialogue"]["healthcheck"] == {"disable": True}
