"""Runs a folder of TF 1.x programs on actorflow and on TensorFlow, as a new user would.

For each ``*.py`` program in the given folders, up to three runs, each in a fresh temporary
working directory (with ``MNIST_data`` linked to the MNIST folder, and ``/tmp/data`` expected
to be that folder too, as the tutorials read it):

- ``tf``: ``import tensorflow as tf`` edited to ``import tensorflow.compat.v1 as tf;
  tf.disable_v2_behavior()``, run by the Python of a TensorFlow install (``--tf-python``)
  with ``TF_USE_LEGACY_KERAS=1``, so that ``tf.layers`` works where ``tf_keras`` is installed.
- ``edit``: the same line edited to ``import actorflow as tf`` (and the program's other
  ``tensorflow`` imports, ``from tensorflow.examples... import``, to ``actorflow``), run by
  this Python.
- ``run``: the program unmodified, run by ``actorflow run``.

A program's helper modules (``*.py`` files of the same folder that another one imports,
such as ``reader.py`` beside ``ptb_word_lm.py``) are not run themselves: each run gets them
beside ``prog.py``, with the same import edit.

Long training loops are shortened the same way for every engine (``--max-steps`` caps
assignments such as ``num_steps = 10000``; ``--max-epochs`` caps ``training_epochs = 25``),
so a run's figures compare across engines. A run passes when it exits 0 within
``--timeout``. The last number printed after "accuracy" is taken as the program's accuracy.

Prints one line per program and run, then one JSON line: the counts, the programs TF runs
that actorflow does not, and the accuracy differences.

Usage:
    python scripts/tf1_programs.py DIR [DIR ...] --mnist DIR [--tf-python PATH]
        [--runs tf,edit,run] [--timeout 300] [--max-steps 500] [--max-epochs 3]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

STEP_VARS = r"num_steps|training_steps|training_iters|num_iterations|max_steps|n_steps"
EPOCH_VARS = r"training_epochs|num_epochs|n_epochs|epochs"
TF_IMPORT = re.compile(r"^import tensorflow as tf\s*$", re.M)
# The program's other TensorFlow imports, edited too: ``from tensorflow.examples... import``.
TF_SUBMODULE = re.compile(r"^(\s*from\s+|\s*import\s+)tensorflow(?=[.\s])", re.M)
ACCURACY = re.compile(r"accuracy[^\n]*?([0-9]*\.[0-9]+)", re.I)


def shortened(src: str, max_steps: int, max_epochs: int) -> str:
    """`src` with top-level step and epoch counts capped."""
    def cap(limit):
        def sub(m):
            return f"{m.group(1)}{min(int(m.group(2)), limit)}{m.group(3)}"
        return sub
    src = re.sub(rf"^((?:{STEP_VARS})\s*=\s*)(\d+)(.*)$", cap(max_steps), src, flags=re.M)
    return re.sub(rf"^((?:{EPOCH_VARS})\s*=\s*)(\d+)(.*)$", cap(max_epochs), src, flags=re.M)


def variant(src: str, run: str) -> str:
    if run == "tf":
        return TF_IMPORT.sub("import tensorflow.compat.v1 as tf; tf.disable_v2_behavior()",
                             src)
    if run == "edit":
        return TF_SUBMODULE.sub(r"\1actorflow",
                                TF_IMPORT.sub("import actorflow as tf", src))
    return src


def command(run: str, args) -> list[str]:
    if run == "tf":
        return [args.tf_python, "prog.py"]
    if run == "edit":
        return [sys.executable, "prog.py"]
    return [sys.executable, "-m", "actorflow.run", "prog.py"]


def helpers(folder: Path) -> list[Path]:
    """The modules of `folder` that another of its ``*.py`` files imports."""
    files = sorted(folder.glob("*.py"))
    imports = re.compile(r"^\s*(?:import|from)\s+(\w+)", re.M)
    imported = {m for f in files for m in imports.findall(f.read_text())
                if m != f.stem}
    return [f for f in files if f.stem in imported]


def run_one(path: Path, run: str, args, program: str) -> dict:
    src = shortened(path.read_text(), args.max_steps, args.max_epochs)
    with tempfile.TemporaryDirectory() as work:
        (Path(work) / "prog.py").write_text(variant(src, run))
        for helper in helpers(path.parent):
            (Path(work) / helper.name).write_text(variant(helper.read_text(), run))
        os.symlink(args.mnist, Path(work) / "MNIST_data")
        env = dict(os.environ, MPLBACKEND="Agg",
                   ACTORFLOW_DATA_DIR=str(Path(args.mnist).parent))
        if run == "tf":  # tf.compat.v1.layers needs Keras 2 (the tf_keras package) in TF 2.16+
            env["TF_USE_LEGACY_KERAS"] = "1"
        try:
            proc = subprocess.run(command(run, args), cwd=work, env=env, capture_output=True,
                                  text=True, timeout=args.timeout)
            rc, out = proc.returncode, proc.stdout + proc.stderr
        except subprocess.TimeoutExpired as e:
            rc = "timeout"
            out = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) \
                else (e.stdout or "")
    lines = [ln for ln in out.splitlines() if ln.strip()]
    acc = ACCURACY.findall(out)
    return {"program": program, "run": run, "ok": rc == 0, "rc": rc,
            "accuracy": float(acc[-1]) if acc else None,
            "last": lines[-1][:200] if lines else ""}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dirs", nargs="+", type=Path)
    p.add_argument("--mnist", required=True, help="folder holding the MNIST .gz files")
    p.add_argument("--tf-python", help="the python of a TensorFlow install")
    p.add_argument("--runs", default="tf,edit,run")
    p.add_argument("--timeout", type=int, default=300)
    p.add_argument("--max-steps", type=int, default=500)
    p.add_argument("--max-epochs", type=int, default=3)
    args = p.parse_args()
    runs = [r for r in args.runs.split(",") if r != "tf" or args.tf_python]
    if not os.path.isdir(args.mnist):
        p.error(f"--mnist {args.mnist} is not a folder")

    results = []
    for d in args.dirs:
        for path in sorted(set(d.glob("*.py")) - set(helpers(d))):
            # with several folders, the folder tells apart programs of one name
            program = path.stem if len(args.dirs) == 1 else f"{d.name}/{path.stem}"
            for run in runs:
                r = run_one(path, run, args, program)
                results.append(r)
                print(f"{r['program']:32s} {run:5s} {'ok' if r['ok'] else 'FAIL':4s} "
                      f"acc={r['accuracy']} :: {r['last']}", flush=True)

    by = {(r["program"], r["run"]): r for r in results}
    programs = sorted({r["program"] for r in results})
    summary = {"programs": len(programs)}
    for run in runs:
        summary[f"{run}_ok"] = sum(by[(n, run)]["ok"] for n in programs)
    if "tf" in runs:
        tf_ok = [n for n in programs if by[(n, "tf")]["ok"]]
        for run in (r for r in runs if r != "tf"):
            missing = [n for n in tf_ok if not by[(n, run)]["ok"]]
            summary[f"{run}_share_of_tf"] = (len(tf_ok) - len(missing)) / max(1, len(tf_ok))
            summary[f"{run}_fails_where_tf_runs"] = missing
            summary[f"{run}_accuracy_minus_tf"] = {
                n: round(by[(n, run)]["accuracy"] - by[(n, "tf")]["accuracy"], 4)
                for n in tf_ok if by[(n, run)]["ok"] and by[(n, run)]["accuracy"] is not None
                and by[(n, "tf")]["accuracy"] is not None}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
