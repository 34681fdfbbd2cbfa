"""Who can reach the Rays that actorflow starts: loopback only on one machine, token auth
across machines.

The Ray tests look at every TCP socket that the processes started for a Ray listen on
(psutil, which ray[default] brings) and require 127.0.0.1 / ::1 (or 127.0.0.1 mapped into
IPv6): before the fix, GCS, raylet, core workers and agents listened on all interfaces, and a
driver on another machine could run code as this user.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from actorflow.actors._remote import LOOPBACK_ENV, is_loopback_address, loopback_node
from tests.actors import _cluster

ray = pytest.importorskip("ray", reason="the cluster security tests need Ray")

CLUSTERS = _cluster.REPO / "clusters"
TIMEOUT = 300

linux_only = pytest.mark.skipif(
    shutil.which("setsid") is None or not os.path.isdir("/proc"),
    reason="needs Linux (setsid, /proc)")


def _is_loopback(host: str) -> bool:
    import ipaddress
    address = ipaddress.ip_address(host.split("%")[0])
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def _listeners(pids: set[int]) -> list[tuple[str, int, int, str]]:
    """(host, port, pid, name) of every TCP socket that one of `pids` listens on."""
    import psutil  # ray[default] brings it; importable once ray is imported
    rows = []
    for c in psutil.net_connections(kind="tcp"):
        if c.status == psutil.CONN_LISTEN and c.pid in pids:
            try:
                name = psutil.Process(c.pid).name()
            except psutil.Error:
                name = "?"
            rows.append((c.laddr.ip, c.laddr.port, c.pid, name))
    return rows


def _clean_env(**extra: str) -> dict[str, str]:
    """This environment without the Ray variables that would change what is tested."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("RAY_ADDRESS", "RAY_AUTH_MODE", LOOPBACK_ENV)}
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")  # `ray`
    env.update(extra)
    return env


# ----------------------------------------------------------------- no Ray started

@pytest.mark.parametrize("address, loopback", [
    ("127.0.0.1:6379", True), ("localhost:6379", True), ("[::1]:6379", True),
    ("127.0.0.1", True), ("10.1.2.3:6379", False), ("head.example:6379", False),
    ("auto", False), ("local", False)])
def test_is_loopback_address(address, loopback):
    assert is_loopback_address(address) is loopback


def test_loopback_node_resolves_localhost_to_itself_and_restores():
    from ray._private import services
    if ray.is_initialized():
        pytest.skip("a Ray from another test is running: its node address wins")
    before = services.resolve_ip_for_localhost("127.0.0.1")
    with loopback_node():
        assert services.get_node_ip_address() == "127.0.0.1"
        assert services.resolve_ip_for_localhost("127.0.0.1") == "127.0.0.1"
    assert services.resolve_ip_for_localhost("127.0.0.1") == before
    with loopback_node(active=False):
        assert services.resolve_ip_for_localhost("127.0.0.1") == before


@linux_only
def test_listening_script_reports_only_sockets_beyond_loopback():
    """clusters/listening.py, which local_cluster.sh trusts to refuse an exposed cluster."""
    server = textwrap.dedent("""
        import socket, sys
        socks = []
        for host in ("0.0.0.0", "127.0.0.1"):
            s = socket.socket(); s.bind((host, 0)); s.listen(); socks.append(s)
        print(" ".join(str(s.getsockname()[1]) for s in socks), flush=True)
        sys.stdin.read()
    """)
    proc = subprocess.Popen(["setsid", sys.executable, "-c", server], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        exposed_port, loopback_port = proc.stdout.readline().split()
        check = [sys.executable, str(CLUSTERS / "listening.py"), str(proc.pid)]
        every = subprocess.run(check, capture_output=True, text=True, timeout=60)
        exposed = subprocess.run(check + ["--exposed"], capture_output=True, text=True,
                                 timeout=60)
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
    assert every.returncode == 0, every.stderr
    assert f"0.0.0.0 {exposed_port} {proc.pid} " in every.stdout
    assert f"127.0.0.1 {loopback_port} {proc.pid} " in every.stdout
    assert exposed.returncode == 1
    assert len(exposed.stdout.splitlines()) == 1, exposed.stdout
    assert exposed.stdout.split()[:3] == ["0.0.0.0", exposed_port, str(proc.pid)]


def _section(text: str, start: str, end: str) -> str:
    return text[text.index(start):text.index(end, text.index(start))]


def _before_first_ray_start(commands: str) -> str:
    return commands[:commands.index("ray start")]


def test_multi_machine_instructions_turn_token_auth_on():
    """The usage text and clusters/README.md: RAY_AUTH_MODE=token on every machine before the
    first `ray start`, a token made and shared, and the opt-out named."""
    usage = subprocess.run(["bash", str(CLUSTERS / "local_cluster.sh"), "--help"],
                           capture_output=True, text=True, timeout=60).stdout
    readme = (CLUSTERS / "README.md").read_text()
    for steps in (_section(usage, "A real multi-machine cluster", "jobs:"),
                  _section(readme, "## Several machines by hand", "## Cluster launcher")):
        assert "export RAY_AUTH_MODE=token" in _before_first_ray_start(steps), steps
        assert "ray get-auth-token --generate" in steps, steps
        assert "RAY_AUTH_MODE=disabled" in steps, steps  # the opt-out, by name


def _yaml(name: str):
    yaml = pytest.importorskip("yaml", reason="PyYAML comes with ray[default]")
    return yaml.safe_load((CLUSTERS / name).read_text())


def test_launcher_config_starts_every_node_with_token_auth():
    config = _yaml("ray-cluster.yaml")
    for key in ("head_start_ray_commands", "worker_start_ray_commands"):
        starts = [c for c in config[key] if "ray start" in c]
        assert starts, key
        assert all("RAY_AUTH_MODE=token" in c for c in starts), starts
    # The token reaches every node (and the container) at Ray's default path.
    assert config["file_mounts"].get("/home/ray/.ray/auth_token") == "~/.ray/auth_token"


def test_kuberay_manifest_gives_every_container_token_auth():
    spec = _yaml("kuberay.yaml")["spec"]
    groups = [spec["headGroupSpec"], *spec["workerGroupSpecs"]]
    for group in groups:
        for c in group["template"]["spec"]["containers"]:
            env = {e["name"]: e for e in c.get("env", [])}
            assert env["RAY_AUTH_MODE"]["value"] == "token", c["name"]
            secret = env["RAY_AUTH_TOKEN"]["valueFrom"]["secretKeyRef"]
            assert secret["key"] == "auth_token" and secret["name"], c["name"]


# ----------------------------------------------------------------- ensure_ray's private Ray

PRIVATE_DRIVER = textwrap.dedent("""
    import json, sys
    import numpy as np
    from actorflow.actors._remote import ensure_ray
    ray = ensure_ray()
    import psutil

    @ray.remote
    class Named:
        def pid(self):
            return __import__("os").getpid()

    @ray.remote
    def square(x):
        return x * x

    actor = Named.options(name="security-probe").remote()
    ray.get(actor.pid.remote(), timeout=120)
    assert ray.get([square.remote(i) for i in range(4)], timeout=120) == [0, 1, 4, 9]
    big = ray.put(np.ones(1 << 20))  # through the object store
    assert ray.get(big).sum() == 1 << 20
    me = psutil.Process()
    print(json.dumps([me.pid] + [p.pid for p in me.children(recursive=True)]), flush=True)
    sys.stdin.read()  # keep Ray up until the test is done with it
""")


@pytest.mark.slow
@linux_only
def test_private_ray_listens_on_loopback_only_and_says_how_to_inspect_it(tmp_path):
    """ensure_ray's own Ray: every port of every process on loopback, token auth by default,
    and the printed `ray list actors` command works against it from a shell."""
    log = tmp_path / "driver.err"
    with open(log, "w") as err:
        proc = subprocess.Popen([sys.executable, "-c", PRIVATE_DRIVER], cwd=_cluster.REPO,
                                env=_clean_env(), stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=err, text=True)
    try:
        line = proc.stdout.readline()
        if not line:
            pytest.fail(f"the driver failed:\n{log.read_text()[-3000:]}")
        pids = set(json.loads(line))
        assert len(pids) > 3, pids  # gcs_server, raylet, workers, ...
        listeners = _listeners(pids)
        hints = [ln for ln in log.read_text().splitlines()
                 if ln.startswith("actorflow: started a private Ray")]
        assert len(hints) == 1, log.read_text()[-3000:]
        hint = hints[0]
        command = hint.split("inspect it while this runs with: ", 1)[1].split("   (")[0]
        listed = subprocess.run(["bash", "-c", command], env=_clean_env(),
                                capture_output=True, text=True, timeout=TIMEOUT)
    finally:
        proc.stdin.close()
        proc.wait(timeout=TIMEOUT)
    assert listeners, "found no listening sockets: the check itself is broken"
    exposed = [row for row in listeners if not _is_loopback(row[0])]
    assert not exposed, f"ports of the private Ray beyond loopback: {exposed}"
    assert "RAY_AUTH_MODE=token " in command, hint  # on by default
    assert f"{LOOPBACK_ENV}=0" in command, hint
    assert listed.returncode == 0, listed.stdout[-2000:] + listed.stderr[-2000:]
    assert "security-probe" in listed.stdout, listed.stdout


# ----------------------------------------------------------------- clusters/local_cluster.sh

CLUSTER_DRIVER = textwrap.dedent("""
    import sys
    from actorflow.actors._remote import ensure_ray
    ray = ensure_ray(sys.argv[1])

    @ray.remote(num_cpus=0)
    class Where:
        def node(self):
            return ray.get_runtime_context().get_node_id()

    actors = [Where.options(resources={f"node_{i}": 0.01}).remote() for i in range(2)]
    nodes = ray.get([a.node.remote() for a in actors], timeout=120)
    assert len(set(nodes)) == 2, nodes
    print("ok", flush=True)
    sys.stdin.read()  # keep the actors (and their ports) alive until the test looked
""")


@pytest.mark.slow
@linux_only
def test_local_cluster_listens_on_loopback_only(tmp_path):
    """Two nodes with token auth, a fresh HOME (so that 'start' must make the token), and a
    driver with an actor on each node: no process of the cluster listens beyond loopback."""
    home = tmp_path / "home"
    home.mkdir()
    env = _clean_env(HOME=str(home), RAY_AUTH_MODE="token")
    cluster = _cluster.start(2, env=env)
    try:
        assert (home / ".ray" / "auth_token").stat().st_size > 0  # made by 'start'
        log = tmp_path / "driver.err"
        with open(log, "w") as err:
            driver = subprocess.Popen([sys.executable, "-c", CLUSTER_DRIVER, cluster.address],
                                      cwd=_cluster.REPO, env=env, stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=err, text=True)
        try:
            ready = driver.stdout.readline()
            if ready.strip() != "ok":
                pytest.fail(f"the driver failed:\n{log.read_text()[-3000:]}")
            pids = set(_cluster.session_processes(cluster.pids))
            listeners = _listeners(pids)
        finally:
            driver.stdin.close()
            driver.wait(timeout=TIMEOUT)
        status = subprocess.run(["bash", str(_cluster.SCRIPT), "status", "--temp-dir",
                                 str(cluster.temp_dir)], env=env, capture_output=True,
                                text=True, timeout=TIMEOUT)
    finally:
        stopped = _cluster.stop(cluster)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert len(listeners) > 6, listeners  # GCS, 2 raylets, agents, 2 actors, ...
    exposed = [row for row in listeners if not _is_loopback(row[0])]
    assert not exposed, f"ports of the local cluster beyond loopback: {exposed}"
    assert status.returncode == 0, status.stdout + status.stderr
    assert "Active:" in status.stdout, status.stdout  # `ray status` reaches the loopback GCS
