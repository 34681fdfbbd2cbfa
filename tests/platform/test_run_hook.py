"""Zero-edit runs: `actorflow run PROGRAM.py` and `python -m actorflow.run PROGRAM.py` run
unmodified TF 1.x programs (tests/platform/programs_tf/) with `import tensorflow` resolved to
actorflow, as `python PROGRAM.py` would run them (argv, __main__, sys.path, exit status); and
the import hook itself (actorflow.tf_import_hook)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import actorflow
from actorflow import tf_import_hook

PROGRAMS = Path(__file__).parent / "programs_tf"
DATA_ENV = "ACTORFLOW_DATA_DIR"


def _console_script() -> list:
    """The installed `actorflow` command, else the same entry point through Python."""
    exe = Path(sys.executable).parent / "actorflow"
    if exe.is_file():
        return [str(exe)]
    return [sys.executable, "-c", "import sys; from actorflow.agents.cli import main; "
            "sys.exit(main())"]


def _run(cmd: list, cwd=None, env=None, timeout: float = 300) -> subprocess.CompletedProcess:
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True,
                          timeout=timeout)


def _data_dir() -> str:
    data = os.environ.get(DATA_ENV)
    if not data or not os.path.isdir(os.path.join(data, "mnist")):
        pytest.skip(f"no MNIST data: set {DATA_ENV} to the folder holding mnist/")
    return os.path.abspath(data)


# -- whole programs, in their own processes ------------------------------------------------
def test_mnist_tutorial_trains_through_actorflow_run(tmp_path):
    data = _data_dir()
    out = _run(_console_script() + ["run", str(PROGRAMS / "mnist_softmax.py"), "--steps",
                                    "200"], cwd=tmp_path, env={DATA_ENV: data})
    assert out.returncode == 0, out.stderr
    accuracy = float(out.stdout.strip().splitlines()[-1].split()[-1])
    assert accuracy > 0.85  # softmax regression reaches ~0.92 on the split after 200 steps


def test_compat_v1_program_through_python_m(tmp_path):
    out = _run([sys.executable, "-m", "actorflow.run",
                str(PROGRAMS / "compat_v1_regression.py"), "300"], cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "w=3.000 b=2.000"


def test_missing_api_names_it_and_the_line(tmp_path):
    out = _run(_console_script() + ["run", str(PROGRAMS / "missing_api.py")], cwd=tmp_path)
    assert out.returncode == 1
    assert out.stdout.strip() == "graph built"
    last = out.stderr.strip().splitlines()[-1]
    assert last == ("actorflow.tf_import_hook.MissingAttributeError: actorflow does not "
                    "implement tf.contrib.foo (reached from missing_api.py line 7)")
    assert "runpy" not in out.stderr  # the traceback starts at the program


@pytest.mark.parametrize("status", [0, 3])
def test_argv_main_sys_path_and_exit_status(tmp_path, status):
    program = PROGRAMS / "argv_and_exit.py"
    out = _run(_console_script() + ["run", str(program), "--flag", "a b", str(status)],
               cwd=tmp_path)
    assert out.returncode == status, out.stderr
    seen = json.loads(out.stdout)
    assert seen["argv"] == [str(program), "--flag", "a b", str(status)]
    assert seen["name"] == "__main__" and seen["file"] == str(program)
    assert seen["path0"] == str(PROGRAMS)  # the program's folder, not the working directory
    assert seen["helper"] == 42 and seen["cwd"] == str(tmp_path)
    assert (seen["tf"], seen["rnn"], seen["slim"]) == (
        "actorflow", "actorflow.contrib.rnn", "actorflow.contrib.slim")


def test_run_needs_neither_ray_nor_gymnasium(tmp_path):
    """`actorflow run` dispatches before the agents' imports: with ray and gymnasium made
    unimportable the program still runs."""
    code = ("import sys; sys.modules['ray'] = None; sys.modules['gymnasium'] = None; "
            "from actorflow.agents.cli import main; "
            f"sys.exit(main(['run', {str(PROGRAMS / 'argv_and_exit.py')!r}, '4']))")
    out = _run([sys.executable, "-c", code], cwd=tmp_path)
    assert out.returncode == 4, out.stderr
    assert json.loads(out.stdout)["tf"] == "actorflow"


def test_missing_program_and_no_program(tmp_path):
    out = _run(_console_script() + ["run", "no_such_program.py"], cwd=tmp_path)
    assert out.returncode == 2
    assert "can't open file" in out.stderr and "no_such_program.py" in out.stderr
    out = _run([sys.executable, "-m", "actorflow.run"], cwd=tmp_path)
    assert out.returncode == 2 and out.stderr.startswith("usage:")


# -- the hook, in this process -------------------------------------------------------------
@pytest.fixture
def hook():
    tf_import_hook.install()
    yield tf_import_hook
    tf_import_hook.uninstall()


def test_tensorflow_names_resolve_to_actorflow(hook):
    import tensorflow as tf
    import tensorflow.compat.v1 as tf1
    from tensorflow.contrib.learn.python.learn.datasets import mnist
    from tensorflow.examples.tutorials.mnist import input_data
    from tensorflow.python.framework import ops

    assert tf is actorflow and tf1 is actorflow
    assert input_data.read_data_sets is mnist.read_data_sets
    assert ops.Graph is actorflow.Graph
    # The shared modules keep their own identity.
    assert actorflow.__spec__.name == "actorflow"
    assert actorflow.__name__ == "actorflow"


def test_missing_module_and_from_import(hook):
    with pytest.raises(hook.MissingModuleError,
                       match=r"actorflow does not implement tensorflow\.contrib\.foo "
                             r"\(reached from test_run_hook\.py line \d+\)"):
        import tensorflow.contrib.foo.bar  # noqa: F401
    with pytest.raises(ImportError, match=r"does not implement tensorflow\.contrib\.nope"):
        from tensorflow.contrib import nope  # noqa: F401
    with pytest.raises(ModuleNotFoundError):  # what `except ModuleNotFoundError` expects
        import tensorflow.keras  # noqa: F401


def test_missing_attribute(hook):
    import tensorflow as tf
    with pytest.raises(hook.MissingAttributeError,
                       match=r"^actorflow does not implement tf\.nn\.fancy_op \(reached from "
                             r"test_run_hook\.py line \d+\)$"):
        _ = tf.nn.fancy_op
    assert not hasattr(tf, "keras")  # an AttributeError, so hasattr and getattr work
    assert getattr(tf.contrib, "missing", None) is None
    with pytest.raises(AttributeError, match="__wrapped__") as e:
        _ = tf.__wrapped__  # dunder probes stay plain AttributeErrors
    assert not isinstance(e.value, hook.MissingAPIError)


def test_uninstall_restores_plain_imports():
    tf_import_hook.install()
    tf_import_hook.uninstall()
    assert "tensorflow" not in sys.modules
    assert "__getattr__" not in vars(actorflow)
    with pytest.raises(AttributeError) as e:
        _ = actorflow.no_such_name
    assert not isinstance(e.value, tf_import_hook.MissingAPIError)


def test_run_program_in_process_status_codes(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    monkeypatch.setattr(sys, "path", list(sys.path))
    prog = tmp_path / "p.py"
    prog.write_text("import sys\nimport tensorflow as tf\nsys.exit('bad input: ' + sys.argv[1])\n")
    try:
        assert tf_import_hook.run_program(str(prog), ["x"]) == 1  # sys.exit(str) gives 1
        prog.write_text("raise ValueError('boom')\n")
        assert tf_import_hook.run_program(str(prog)) == 1
        prog.write_text("import sys\nsys.exit()\n")
        assert tf_import_hook.run_program(str(prog)) == 0
        assert tf_import_hook.run_program(str(tmp_path / "absent.py")) == 2
    finally:
        tf_import_hook.uninstall()


# -- under Ray -----------------------------------------------------------------------------
_RAY_JOB = """
import os, socket, sys, time
import ray
from ray.job_submission import JobStatus, JobSubmissionClient

with socket.socket() as s:  # a free dashboard port: other Ray clusters may hold 8265
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
ctx = ray.init(num_cpus=1, include_dashboard=True, dashboard_port=port)
try:
    client = JobSubmissionClient("http://" + ctx.dashboard_url)
    bin_dir = os.path.dirname(sys.executable)
    job = client.submit_job(entrypoint=f"PATH={bin_dir}:$PATH actorflow run argv_and_exit.py "
                            "from-ray 0", runtime_env={"working_dir": sys.argv[1]})
    deadline = time.monotonic() + 120
    while client.get_job_status(job) not in (JobStatus.SUCCEEDED, JobStatus.FAILED,
                                             JobStatus.STOPPED):
        if time.monotonic() > deadline:
            sys.exit("job did not finish")
        time.sleep(0.5)
    print(client.get_job_status(job))
    print(client.get_job_logs(job))
finally:
    ray.shutdown()
"""


@pytest.mark.slow
def test_actorflow_run_as_a_ray_job_entrypoint(tmp_path):
    """`actorflow run` is just a process: a Ray job whose entrypoint it is runs the program
    from Ray's copy of the working directory."""
    pytest.importorskip("ray")
    pytest.importorskip("ray.job_submission")
    for name in ("argv_and_exit.py", "helper_module.py"):
        (tmp_path / name).write_text((PROGRAMS / name).read_text())
    out = _run([sys.executable, "-c", _RAY_JOB, str(tmp_path)], timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "SUCCEEDED" in out.stdout
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith('{"argv"'))
    seen = json.loads(line)
    assert seen["argv"] == ["argv_and_exit.py", "from-ray", "0"] and seen["helper"] == 42
    assert seen["tf"] == "actorflow" and seen["path0"] == seen["cwd"] != str(tmp_path)


def test_find_spec_probes_get_none(hook):
    import importlib.util

    assert importlib.util.find_spec("tensorflow") is not None
    assert importlib.util.find_spec("tensorflow.contrib.no_such_module") is None
    assert importlib.util.find_spec("actorflow.no_such_module") is None
