"""A real 3-node Ray cluster on this machine: placement, a distributed driver, job submission.

The cluster comes from clusters/local_cluster.sh (head + 2 nodes, node i with the custom
resource ``node_i``), in its own temp root and on its own ports, and is stopped by the pids
the script started.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid

import pytest

from tests.actors import _cluster
from tests.conftest import data_dir

ray = pytest.importorskip("ray", reason="the multi-node tests need Ray: pip install -e '.[ray]'")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("setsid") is None or not os.path.isdir("/proc"),
                       reason="clusters/local_cluster.sh needs Linux (setsid, /proc)"),
]

EXPERIMENT = "experiments/mnist_distributed.py"
RUN_TIMEOUT = 300


@pytest.fixture(scope="module")
def cluster():
    """A running 3-node cluster; afterwards, none of the processes it started is left."""
    env = dict(os.environ)
    mnist_root = data_dir()
    if mnist_root is not None:
        env["ACTORFLOW_DATA_DIR"] = str(mnist_root)
    c = _cluster.start(3, env=env)
    try:
        yield c
    finally:
        proc = _cluster.stop(c)
        left = _cluster.session_processes(c.pids)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert not left, f"processes of the cluster still alive after stop: {left}"


@pytest.fixture(scope="module")
def nodes(cluster):
    """This process connected to the cluster as a driver: {node id: its node_i resource}."""
    if ray.is_initialized():  # a connection left over by another module
        ray.shutdown()
    from actorflow.actors._remote import ensure_ray
    ensure_ray(cluster.address)  # the cluster listens on 127.0.0.1 only: see ensure_ray
    try:
        yield {n["NodeID"]: next(k for k in n["Resources"] if k.startswith("node_"))
               for n in ray.nodes() if n["Alive"]}
    finally:
        ray.shutdown()


def _mnist_env() -> dict[str, str]:
    root = data_dir()
    if root is None:
        pytest.skip("MNIST data not found: set ACTORFLOW_DATA_DIR to a folder with mnist/")
    if not (_cluster.REPO / EXPERIMENT).is_file():
        pytest.fail(f"{EXPERIMENT} is missing")
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env["ACTORFLOW_DATA_DIR"] = str(root)
    return env


def _last_json(output: str) -> dict:
    lines = [ln for ln in output.splitlines() if ln.strip()]
    assert lines, "no output"
    return json.loads(lines[-1])


def _check_result(result: dict, node_ids: set[str]) -> None:
    """The experiment's JSON: metrics, and ps + 2 workers on three different nodes."""
    assert {"accuracy", "global_step", "wall_s", "placement"} <= set(result), result
    assert 0.0 <= result["accuracy"] <= 1.0
    assert result["global_step"] > 0
    placement = result["placement"]
    assert isinstance(placement, dict) and len(placement) == 3, placement
    assert sum("ps" in task for task in placement) == 1, placement
    assert sum("worker" in task for task in placement) == 2, placement
    assert len(set(placement.values())) == 3, f"tasks share a node: {placement}"
    assert set(placement.values()) <= node_ids, (placement, node_ids)


def test_cluster_has_three_nodes_with_their_resources(cluster, nodes):
    assert sorted(nodes.values()) == ["node_0", "node_1", "node_2"]
    status = cluster.script("status")
    assert status.returncode == 0, status.stdout + status.stderr
    for i in range(3):
        assert f"node_{i}: pid {cluster.pids[i]} alive" in status.stdout


def test_strict_spread_places_actors_on_three_nodes(nodes):
    from ray.util.placement_group import placement_group, remove_placement_group
    from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

    @ray.remote(num_cpus=1)
    class Probe:  # defined here so that it is pickled by value, not imported by workers
        def node_id(self) -> str:
            return ray.get_runtime_context().get_node_id()

    pg = placement_group([{"CPU": 1}] * 3, strategy="STRICT_SPREAD")
    try:
        ray.get(pg.ready(), timeout=120)
        actors = [Probe.options(scheduling_strategy=PlacementGroupSchedulingStrategy(
            placement_group=pg, placement_group_bundle_index=i)).remote() for i in range(3)]
        where = ray.get([a.node_id.remote() for a in actors], timeout=120)
        for a in actors:
            ray.kill(a)
    finally:
        remove_placement_group(pg)
    assert len(set(where)) == 3, where
    assert sorted(nodes[w] for w in where) == ["node_0", "node_1", "node_2"]


def test_distributed_training_driver_spreads_ps_and_workers(cluster, nodes):
    env = _mnist_env()
    proc = subprocess.run(
        [sys.executable, EXPERIMENT, "--address", cluster.address, "--spread", "STRICT_SPREAD",
         "--workers", "2", "--ps", "1", "--steps", "60", "--sync"],
        cwd=_cluster.REPO, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    _check_result(_last_json(proc.stdout), set(nodes))


def _readme_job_command(dashboard_url: str, job_id: str) -> str:
    """The README's `ray job submit` command, pointed at this cluster under `job_id`, with a
    small budget (argparse keeps the last --steps)."""
    text = (_cluster.REPO / "README.md").read_text()
    lines = text[text.index("ray job submit "):].splitlines()
    n = next(i for i, ln in enumerate(lines) if not ln.endswith("\\")) + 1
    command = "\n".join(lines[:n])
    assert "http://<dashboard>" in command, command
    return (command.replace("http://<dashboard>", dashboard_url)
            .replace("ray job submit ", f"ray job submit --submission-id {job_id} ", 1)
            + " --steps 30")


def test_job_submission_runs_the_experiment(cluster, nodes):
    """The README's `ray job submit` command, run by bash from the checkout with the Set-up's
    relative ACTORFLOW_DATA_DIR: the job runs in Ray's copy of the working directory."""
    env = _mnist_env()
    env["ACTORFLOW_DATA_DIR"] = os.path.relpath(env["ACTORFLOW_DATA_DIR"], _cluster.REPO)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")  # ray
    job_id = f"actorflow-test-{uuid.uuid4().hex[:8]}"
    submit = subprocess.run(["bash", "-c", _readme_job_command(cluster.dashboard_url, job_id)],
                            cwd=_cluster.REPO, env=env, capture_output=True, text=True,
                            timeout=RUN_TIMEOUT)
    ray_cli = [sys.executable, "-m", "ray.scripts.scripts", "job"]
    logs = subprocess.run(ray_cli + ["logs", "--address", cluster.dashboard_url, job_id],
                          env=env, capture_output=True, text=True, timeout=60)
    assert submit.returncode == 0 and logs.returncode == 0, (
        submit.stdout[-2000:] + submit.stderr[-2000:] + logs.stdout[-2000:] + logs.stderr)
    result = _last_json(logs.stdout)
    _check_result(result, set(nodes))
    assert result["mode"] == "sync"


# The cluster definitions in clusters/ cannot be launched here: check them against Ray's
# launcher schema and against the field names of KubeRay's ray.io/v1 RayCluster types.

RAYCLUSTER_SPEC = {"headGroupSpec", "workerGroupSpecs", "rayVersion", "enableInTreeAutoscaling",
                   "autoscalerOptions", "headServiceAnnotations", "suspend"}
HEAD_GROUP = {"serviceType", "headService", "enableIngress", "rayStartParams", "template"}
WORKER_GROUP = {"groupName", "replicas", "minReplicas", "maxReplicas", "numOfHosts",
                "rayStartParams", "template", "scaleStrategy"}


def _yaml(name: str):
    yaml = pytest.importorskip("yaml", reason="PyYAML comes with ray[default]")
    return yaml.safe_load((_cluster.REPO / "clusters" / name).read_text())


def test_launcher_config_passes_ray_schema():
    import copy

    from ray.autoscaler._private.util import prepare_config, validate_config

    config = _yaml("ray-cluster.yaml")
    validate_config(prepare_config(copy.deepcopy(config)))
    workers = config["available_node_types"]["ray.worker.default"]
    assert workers["min_workers"] >= 2  # the ps and 2 workers need three nodes
    assert any('pip install -e ".[ray]"' in c for c in config["setup_commands"])
    assert config["docker"]["image"].endswith("-py311-cpu")


def test_kuberay_manifest_uses_raycluster_fields():
    doc = _yaml("kuberay.yaml")
    assert (doc["apiVersion"], doc["kind"]) == ("ray.io/v1", "RayCluster")
    spec = doc["spec"]
    assert set(spec) <= RAYCLUSTER_SPEC, set(spec) - RAYCLUSTER_SPEC
    head = spec["headGroupSpec"]
    assert set(head) <= HEAD_GROUP and {"rayStartParams", "template"} <= set(head)
    groups = spec["workerGroupSpecs"]
    assert sum(g["replicas"] for g in groups) >= 2
    for g in groups:
        assert set(g) <= WORKER_GROUP, set(g) - WORKER_GROUP
        assert {"groupName", "rayStartParams", "template"} <= set(g)
        assert g["minReplicas"] <= g["replicas"] <= g["maxReplicas"]
    for group in [head, *groups]:
        # rayStartParams is map[string]string: a bare number or bool is rejected.
        assert all(isinstance(v, str) for v in group["rayStartParams"].values())
        for c in group["template"]["spec"]["containers"]:
            assert c["image"] and c["name"]
            assert "ACTORFLOW_DATA_DIR" in {e["name"] for e in c.get("env", [])}
