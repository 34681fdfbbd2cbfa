"""The `actorflow` command: train and evaluate agents.

    actorflow train {pg,dqn,ppo} [--env CartPole-v1] [--workers N] [--seed S] [--steps N]
                    [--logdir D] [--resume | --force] [--checkpoint-every N] [--address auto]
    actorflow train supervised --model cifar10_cnn --data DIR [--workers N --ps K]
                    [--mode sync|async|allreduce] [--steps N] [--logdir D] [--resume]
    actorflow eval CHECKPOINT_DIR [--episodes N] [--render out.gif]
    actorflow eval --logdir D [--data DIR]
    actorflow run PROGRAM.py [ARGS...]

`run` runs a TF 1.x program unchanged, with `import tensorflow` resolving to actorflow
(`actorflow.tf_import_hook`); it needs neither Ray nor Gymnasium.

`train` prints a progress line and, as its last line, one JSON object with the results;
with --logdir it writes TensorBoard events, metrics.jsonl, summary.json, returns.png and
checkpoints that --resume continues from (the newest complete one). A --logdir that holds
another run is refused unless --force (which deletes that run's files first). Bad input gets
a one-line error and exit status 2; a run whose loss turns NaN or infinite stops with a
one-line error and exit status 1 (the command was valid, the training failed), keeping its
last finite checkpoint.
Settings start from the agent config's defaults, or from its preset for the env where it has
one (`DQNConfig.preset_for`: GridWorld runs `DQNConfig.gridworld()`); --resume keeps the
run's saved settings.

`train supervised` trains a model of the registry (`actorflow.models`) on CIFAR-10 binary
files (`actorflow.agents.supervised`): in this process, or with --workers on Ray (--ps
parameter-server shards, or ring all-reduce); `eval` of its run reports the accuracy on the
data set's test file.
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
import sys

from actorflow import errors

__all__ = ["main", "AGENTS", "experiment_parser", "parse_experiment_args"]

#: agent name -> (module, config class, agent class)
AGENTS = {"pg": ("actorflow.agents.pg", "PGConfig", "PolicyGradient"),
          "dqn": ("actorflow.agents.dqn", "DQNConfig", "DQN"),
          "ppo": ("actorflow.agents.ppo", "PPOConfig", "PPO"),
          "supervised": ("actorflow.agents.supervised", "SupervisedConfig", "Supervised")}

#: flags of `train supervised` only -> the SupervisedConfig field each sets
SUPERVISED_FLAGS = {"model": "model", "data": "data_dir", "ps": "ps", "mode": "mode",
                    "batch_size": "batch_size"}


class UsageError(Exception):
    """Bad command-line input: reported on one line."""


def _agent(name: str):
    if name not in AGENTS:
        raise UsageError(f"unknown agent {name!r}; known: {', '.join(AGENTS)}")
    module, config_cls, agent_cls = AGENTS[name]
    try:
        mod = importlib.import_module(module)
    except ImportError as e:
        raise UsageError(f"agent {name!r} is not available: {e}") from None
    return getattr(mod, config_cls), getattr(mod, agent_cls)


def _check_env(env_id: str, agent: str) -> None:
    """Refuses, before anything is built, an unknown env or one without discrete actions
    (every agent of `AGENTS` picks one of `num_actions` actions)."""
    from actorflow.envs import make_vector
    try:
        venv = make_vector(env_id, 1, seed=0)
    except ValueError as e:
        raise UsageError(str(e).splitlines()[0]) from None
    try:
        if getattr(venv, "num_actions", None) is None:
            space = getattr(venv, "action_space", None) or "continuous actions"
            raise UsageError(f"--env {env_id}: {agent} needs a discrete action space, and "
                             f"{env_id} has {space}")
    finally:
        venv.close()


def _check_logdir(path: str) -> None:
    """Refuses, before anything is built, a --logdir that cannot be written: a file, a
    folder without write permission, or a new folder whose nearest existing parent is not
    a writable folder."""
    target = os.path.abspath(path)
    probe = target
    while not os.path.exists(probe) and os.path.dirname(probe) != probe:
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        where = "is a file" if probe == target else f"cannot be created: {probe} is a file"
        raise UsageError(f"--logdir {path} {where}")
    if not os.access(probe, os.W_OK | os.X_OK):
        where = "is not writable" if probe == target else \
            f"cannot be created: {probe} is not writable"
        raise UsageError(f"--logdir {path} {where}")


def _held_run(logdir: str, force: bool) -> str | None:
    """The agent of the run already in `logdir` (None: it holds none); a run is refused
    unless `force`, so that a new run never mixes into or overwrites another's files."""
    from actorflow.agents.run import run_in
    held = run_in(logdir)
    if held is not None and not force:
        raise UsageError(f"--logdir {logdir} already holds a run (agent {held}); "
                         "add --resume to continue it or --force to replace it")
    return held


def _init_ray(address: str | None, workers: int) -> None:
    if workers == 0 and address is None:
        return
    from actorflow.actors._remote import ensure_ray
    ensure_ray(address)


def train(args) -> dict:
    config_cls, agent_cls = _agent(args.agent)
    if args.steps is not None and args.steps < 1:
        raise UsageError(f"--steps must be >= 1, got {args.steps}")
    workers_given = args.workers is not None
    workers = args.workers if workers_given else 0
    if workers < 0:
        raise UsageError(f"--workers must be >= 0, got {workers}")
    if args.resume and not args.logdir:
        raise UsageError("--resume needs --logdir (the run to continue)")
    if args.resume and args.force:
        raise UsageError("--force starts a new run; it does not combine with --resume")
    if args.checkpoint_every is not None and args.checkpoint_every < 1:
        raise UsageError(f"--checkpoint-every must be >= 1, got {args.checkpoint_every}")
    if args.seed < 0:  # NumPy's generators take no negative seed
        raise UsageError(f"--seed must be >= 0, got {args.seed}")
    if args.logdir:
        _check_logdir(args.logdir)
    held = _held_run(args.logdir, args.force) if args.logdir and not args.resume else None
    overrides = {"workers": workers, "seed": args.seed, **_supervised_overrides(args)}
    if args.checkpoint_every is not None:  # DQN counts env steps, PG and PPO updates
        overrides["checkpoint_interval"] = overrides["checkpoint_every"] = \
            args.checkpoint_every
    if args.env and args.agent == "supervised":
        raise UsageError("--env is for the RL agents; train supervised reads --data")
    if args.env:
        _check_env(args.env, args.agent)
        overrides["env_id"] = args.env
    if args.steps is not None:
        overrides["total_steps"] = args.steps
    saved = None
    if args.resume:
        saved = _saved_config(args.logdir, args.agent)
        if saved is not None:  # the saved settings, except those given on this command line
            given = {"seed": args.seed_given, "workers": workers_given}
            overrides = {**saved, **{k: v for k, v in overrides.items()
                                     if given.get(k, True)}}
    fields = {f.name for f in dataclasses.fields(config_cls)}
    values = {k: v for k, v in overrides.items() if k in fields}
    preset_for = getattr(config_cls, "preset_for", None)
    if preset_for is not None and saved is None:  # a resumed run keeps its saved config
        values = {**preset_for(values.get("env_id", config_cls().env_id)), **values}
    try:
        config = _make_config(config_cls, values)
    except (TypeError, ValueError) as e:
        raise UsageError(str(e).splitlines()[0]) from None
    _init_ray(args.address, config.workers)
    try:
        agent = agent_cls(config)
    except (ValueError, FileNotFoundError) as e:  # the env does not suit the agent (e.g.
        # PG's 2 actions), an unknown model, a missing data folder
        raise UsageError(_first_line(e)) from None
    if held is not None:  # --force, and the settings are valid: replace the old run
        _remove_run(args.logdir)
    try:
        return agent.train(logdir=args.logdir, resume=args.resume)
    except ValueError as e:  # e.g. a checkpoint of another agent
        raise UsageError(str(e).splitlines()[0]) from None
    except errors.DataLossError as e:  # no undamaged checkpoint to resume from
        raise UsageError(f"cannot resume {args.logdir}: {_first_line(e)}") from None


def _supervised_overrides(args) -> dict:
    """The SupervisedConfig settings given by `train supervised`'s own flags (refused, naming
    them, for the RL agents)."""
    given = {flag: getattr(args, flag) for flag in SUPERVISED_FLAGS
             if getattr(args, flag, None) is not None}
    if given and args.agent != "supervised":
        flags = ", ".join(f"--{flag.replace('_', '-')}" for flag in given)
        raise UsageError(f"{flags}: only for train supervised, not {args.agent}")
    for flag in ("ps", "batch_size"):
        if flag in given and given[flag] < 1:
            raise UsageError(f"--{flag.replace('_', '-')} must be >= 1, got {given[flag]}")
    if "data" in given:  # relative to where the command runs, not to a Ray worker's cwd
        given["data"] = os.path.abspath(os.path.expanduser(given["data"]))
    return {SUPERVISED_FLAGS[flag]: value for flag, value in given.items()}


def _remove_run(logdir: str) -> None:
    """Deletes the files of the run in `logdir` (--force), a supervised run's curves too."""
    from actorflow.agents.run import remove_run
    from actorflow.agents.supervised import CURVES
    remove_run(logdir)
    for name in CURVES:
        path = os.path.join(logdir, name)
        if os.path.exists(path):
            os.remove(path)


def _first_line(e: Exception) -> str:
    return (str(e).splitlines() or [type(e).__name__])[0]


def _make_config(config_cls, values: dict):
    """A config from plain values (JSON lists become tuples where the config says so)."""
    from_dict = getattr(config_cls, "from_dict", None)
    return from_dict(values) if from_dict is not None else config_cls(**values)


def _saved_config(logdir: str, agent: str) -> dict | None:
    path = os.path.join(logdir, "config.json")
    if not os.path.exists(path):
        return None
    from actorflow.agents.run import Checkpoint
    found = Checkpoint(logdir).latest()
    if found is not None and found[1].get("agent") != agent:
        raise UsageError(f"{logdir} holds a {found[1].get('agent')!r} run, not {agent!r}")
    with open(path) as f:
        return json.load(f)


def evaluate(args) -> dict:
    from actorflow.agents.run import Checkpoint
    if args.checkpoint and args.logdir and args.checkpoint != args.logdir:
        raise UsageError(f"two runs given: {args.checkpoint} and --logdir {args.logdir}")
    args.checkpoint = args.checkpoint or args.logdir
    if not args.checkpoint:
        raise UsageError("eval needs a run: give --logdir D (the --logdir of actorflow train)")
    if args.episodes < 1:
        raise UsageError(f"--episodes must be >= 1, got {args.episodes}")
    if args.render:  # before the minutes of evaluating and rendering, not after
        from actorflow.agents.render import check_gif_path
        try:
            check_gif_path(args.render)
        except (ValueError, OSError) as e:
            raise UsageError(f"--render {args.render}: {e}") from None
    found = Checkpoint(args.checkpoint).latest()
    if found is None:
        raise UsageError(f"no checkpoint in {args.checkpoint!r} (give a --logdir of "
                         "`actorflow train`)")
    prefix, state = found
    if state.get("agent") == "supervised":
        return _evaluate_supervised(args, prefix, state)
    if args.data:
        raise UsageError(f"--data: only for a supervised run; {args.checkpoint} holds a "
                         f"{state.get('agent')!r} run")
    config_cls, agent_cls = _agent(state.get("agent", "?"))
    fields = {f.name for f in dataclasses.fields(config_cls)}
    config = _make_config(config_cls, {k: v for k, v in state["config"].items() if k in fields})
    agent = agent_cls(dataclasses.replace(config, workers=0))
    try:
        agent.saver.restore(agent.sess, prefix)
    except errors.DataLossError as e:  # damage its manifest does not cover
        raise UsageError(f"checkpoint {prefix} is damaged: {_first_line(e)}") from None
    result = {"agent": state["agent"], "env": config.env_id, "checkpoint": prefix,
              "env_steps": state.get("env_steps"), **{
                  f"eval_{k}": v for k, v in agent.evaluate(args.episodes).items()}}
    if args.render:
        from actorflow.agents.render import record_episode, write_gif
        try:
            frames, ret = record_episode(agent)
            write_gif(args.render, frames)
        except (ValueError, OSError) as e:
            raise UsageError(f"--render {args.render}: {e}") from None
        result.update(render=args.render, render_frames=len(frames), render_return=ret)
    print(json.dumps(result), flush=True)
    return result


def _evaluate_supervised(args, prefix: str, state: dict) -> dict:
    """`eval` of a supervised run: the accuracy of its newest checkpoint on the test file of
    --data (default: the run's data set)."""
    from actorflow.agents.supervised import Supervised, SupervisedConfig
    if args.render:
        raise UsageError("--render: a supervised run has no episodes to render")
    values = dict(state["config"], workers=0)
    if args.data:
        values["data_dir"] = os.path.abspath(os.path.expanduser(args.data))
    try:
        agent = Supervised(SupervisedConfig.from_dict(values))
        agent.restore(prefix)
    except (ValueError, FileNotFoundError) as e:
        raise UsageError(_first_line(e)) from None
    except errors.DataLossError as e:
        raise UsageError(f"checkpoint {prefix} is damaged: {_first_line(e)}") from None
    result = {"agent": "supervised", "model": agent.config.model, "checkpoint": prefix,
              "global_step": state.get("step"), "data_dir": agent.data_dir,
              **agent.evaluate()}
    print(json.dumps(result), flush=True)
    return result


def experiment_parser(doc: str, *, workers: int, steps: int,
                      workers_help: str = "Ray rollout actors (0: none)",
                      steps_help: str = "env-step budget") -> argparse.ArgumentParser:
    """The flags every experiment script shares: --workers, --steps, --seed, --logdir,
    --force, --address (the script adds its own, then calls `parse_experiment_args`).
    The help of --workers and --steps says what they count (an RL script's by default)."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--workers", type=int, default=workers, help=workers_help)
    p.add_argument("--steps", type=int, default=steps, help=steps_help)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--logdir", default=None, help="metrics, TensorBoard events, checkpoints")
    p.add_argument("--force", action="store_true",
                   help="replace the run already in --logdir (its files are deleted)")
    p.add_argument("--address", default=None, help="Ray address (default: $RAY_ADDRESS or "
                   "a new local Ray)")
    return p


def parse_experiment_args(p: argparse.ArgumentParser, argv=None) -> argparse.Namespace:
    """Parses and checks the shared flags, and starts Ray when there are workers. A bad
    value exits with status 2 and a one-line error naming it."""
    args = p.parse_args(argv)
    try:
        for flag, value, least in (("--workers", args.workers, 0), ("--steps", args.steps, 1),
                                   ("--seed", args.seed, 0)):
            if value < least:
                raise UsageError(f"{flag} must be >= {least}, got {value}")
        if args.logdir:
            _check_logdir(args.logdir)
            if _held_run(args.logdir, args.force) is not None:
                from actorflow.agents.run import remove_run
                remove_run(args.logdir)
    except UsageError as e:
        p.exit(2, f"{p.prog}: error: {e}\n")
    _init_ray(args.address, args.workers)
    return args


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="actorflow", description="Train and evaluate agents.")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train an agent")
    t.add_argument("agent", help=f"one of {', '.join(AGENTS)}")
    t.add_argument("--env", default=None, help="environment id (default: the agent's)")
    t.add_argument("--workers", type=int, default=None,
                   help="Ray rollout actors, or supervised's gradient workers (default 0: "
                   "none; --resume keeps the run's)")
    t.add_argument("--seed", type=int, default=None, help="seed (default 0)")
    t.add_argument("--steps", type=int, default=None,
                   help="env-step budget, or supervised's global training steps")
    t.add_argument("--logdir", default=None, help="where metrics and checkpoints go")
    t.add_argument("--resume", action="store_true", help="continue the run in --logdir")
    t.add_argument("--force", action="store_true",
                   help="replace the run in --logdir (its files are deleted)")
    t.add_argument("--checkpoint-every", type=int, default=None, metavar="N",
                   help="checkpoint interval: env steps for dqn, updates for pg and ppo, "
                   "global steps for supervised (default: the config's)")
    t.add_argument("--address", default=None, help="Ray address (e.g. auto)")
    g = t.add_argument_group("train supervised")
    g.add_argument("--model", default=None, help="a model of actorflow.models (default "
                   "cifar10_cnn)")
    g.add_argument("--data", default=None, metavar="DIR", help="the CIFAR-10 binary files "
                   "(default: $ACTORFLOW_DATA_DIR/cifar-10-batches-bin)")
    g.add_argument("--ps", type=int, default=None, metavar="K",
                   help="parameter-server shards with --workers (default 1)")
    g.add_argument("--mode", default=None, choices=["sync", "async", "allreduce"],
                   help="how --workers exchange gradients (default sync)")
    g.add_argument("--batch-size", type=int, default=None, metavar="N",
                   help="images per step and worker (default 128)")
    r = sub.add_parser("run", help="run an unmodified TF 1.x program: `import tensorflow` "
                       "resolves to actorflow")
    r.add_argument("program", help="PROGRAM.py; the arguments after it are the program's")
    e = sub.add_parser("eval", help="evaluate a trained agent")
    e.add_argument("checkpoint", nargs="?", default=None, help="the --logdir of a training "
                   "run")
    e.add_argument("--logdir", default=None, help="the same, as a flag")
    e.add_argument("--data", default=None, metavar="DIR", help="supervised: the data set "
                   "whose test file is evaluated (default: the run's)")
    e.add_argument("--episodes", type=int, default=20)
    e.add_argument("--render", default=None, metavar="OUT.gif",
                   help="also write one greedy episode as an animated GIF")
    return p


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["run"]:
        # Before the agents' imports: a TF program needs neither Ray nor Gymnasium,
        # and its own arguments are not ours to parse.
        from actorflow.run import main as run_main
        return run_main(argv[1:], prog="actorflow run")
    from actorflow.agents.run import NonFiniteLossError
    args = parser().parse_args(argv)
    try:
        if args.command == "train":
            args.seed_given = args.seed is not None
            args.seed = 0 if args.seed is None else args.seed
            train(args)
        else:
            evaluate(args)
    except UsageError as e:
        print(f"actorflow: error: {e}", file=sys.stderr)
        return 2
    except NonFiniteLossError as e:
        print(f"actorflow: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
