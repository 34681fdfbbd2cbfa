"""Start and stop a real multi-node Ray cluster on this machine with clusters/local_cluster.sh.

The cluster lives in its own temp root with its own ports, so it never captures another
test's ``ray.init(address="local")`` and never touches another Ray instance here.
"""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "clusters" / "local_cluster.sh"


@dataclass
class LocalCluster:
    """A running cluster: GCS address, dashboard URL, the node pids, its temp root."""

    address: str
    dashboard_url: str
    pids: list[int]
    temp_dir: Path

    def script(self, command: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run ``local_cluster.sh <command> --temp-dir <this cluster's root>``."""
        return subprocess.run(["bash", str(SCRIPT), command, "--temp-dir", str(self.temp_dir)],
                              capture_output=True, text=True, timeout=timeout)


def read_state(path: Path) -> dict[str, str]:
    """The KEY=VALUE lines of the script's state file (values may be shell-quoted)."""
    state = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep:
            state[key] = " ".join(shlex.split(value))
    return state


def start(nodes: int = 3, env: dict[str, str] | None = None, timeout: float = 240) -> LocalCluster:
    """Start `nodes` nodes (node i has the custom resource ``node_i``) from this venv.

    Raises:
        RuntimeError: the script failed; the message holds its output.
    """
    temp_dir = Path(tempfile.mkdtemp(prefix="afc-", dir="/tmp"))  # short: socket path limit
    run_env = dict(os.environ if env is None else env)
    run_env.pop("RAY_ADDRESS", None)
    run_env.setdefault("ACTORFLOW_PYTHON", sys.executable)
    command = ["bash", str(SCRIPT), "start", "--nodes", str(nodes), "--temp-dir", str(temp_dir),
               "--timeout", str(int(timeout / 3))]
    try:
        proc = subprocess.run(command, capture_output=True, text=True, env=run_env,
                              timeout=timeout)
    except subprocess.TimeoutExpired as e:
        # The state file names every node started so far: stop those before giving up.
        stop(LocalCluster("", "", [], temp_dir))
        raise RuntimeError(f"local_cluster.sh start took over {timeout}s") from e
    if proc.returncode != 0:
        shutil.rmtree(temp_dir, ignore_errors=True)
        raise RuntimeError(f"local_cluster.sh start failed ({proc.returncode}):\n"
                           f"{proc.stdout}\n{proc.stderr}")
    state = read_state(temp_dir / "cluster.env")
    return LocalCluster(address=state["ADDRESS"], dashboard_url=state["DASHBOARD_URL"],
                        pids=[int(p) for p in state["PIDS"].split()], temp_dir=temp_dir)


def stop(cluster: LocalCluster, remove: bool = True) -> subprocess.CompletedProcess:
    """Stop exactly the cluster's processes; remove its temp root unless `remove` is False."""
    proc = cluster.script("stop")
    if remove:
        shutil.rmtree(cluster.temp_dir, ignore_errors=True)
    return proc


def session_processes(leaders: list[int]) -> list[int]:
    """Live pids whose session id is one of `leaders` (each node's whole process tree):
    clusters/listening.py's own walk of /proc, which local_cluster.sh trusts too."""
    return _listening().session_pids(set(leaders))


def _listening():
    """clusters/listening.py as a module (clusters/ is scripts, not a package)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("listening", REPO / "clusters" / "listening.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
