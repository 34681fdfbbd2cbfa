"""`Supervised`: trains a registered model on CIFAR-10 binary files, in this process or data
parallel over Ray workers (the book's ch. 5.3 program, and its ch. 9 replication).

    agent = Supervised(SupervisedConfig(model="cifar10_cnn", data_dir="data/", workers=2))
    agent.train(logdir="runs/cifar")          # progress, metrics.jsonl, checkpoints, JSON
    agent.evaluate()                          # accuracy on test_batch.bin

The graph: placeholders ``images`` [None, 24, 24, 3] and ``labels`` [None], the model from
`actorflow.models.get_model` (its ``logits``), the loss ``tf.losses`` sums (the mean
sparse cross-entropy plus every loss the model put in the ``losses`` and regularization
collections: the book's weight decay), and the optimizer with its learning-rate schedule on
the global step, as the op ``train``. The input is `supervised_input.CifarBatches`.

With ``workers=0`` the loop runs the train op in this process and logs each logged step's
batch loss and accuracy. With workers, `ReplicatedTrainer` runs ``ps`` parameter-server
shards and ``workers`` gradient workers ("sync": a `SyncReplicasOptimizer` round of every
worker's gradients per step; "async": each gradient applied on arrival), or ring all-reduce
workers ("allreduce"); each worker reads its own shard of the files. The driver trains in
chunks up to each logged step, then pulls the weights and logs the loss and accuracy of a
fixed probe batch (the first centre-cropped training images). The ps shards checkpoint
every `checkpoint_every` steps (under the run's checkpoints/ps/), so a killed ps restores
its latest checkpoint; a killed worker is restarted and given its work again.

`train(logdir, resume=True)` continues from the newest complete run checkpoint (the
driver's, written every `checkpoint_every` steps with the loop state): in this process the
session's variables and slots come back; with workers the shards restore that checkpoint
(whatever ps count or mode wrote it). Batches depend only on (seed, worker, step), so
in-process, sync and all-reduce runs continue exactly.
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

import actorflow as tf

from . import supervised_input as inputs
from .run import Checkpoint, RunLogger, check_finite, write_curve_png

__all__ = ["SupervisedConfig", "Supervised", "CURVES"]

CURVES = ("loss.png", "accuracy.png")
"""The curves a supervised run writes into its logdir (besides `run.RUN_FILES`)."""
_MODES = ("sync", "async", "allreduce")
_OPTIMIZERS = ("adam", "sgd", "momentum")
_SCHEDULES = ("constant", "exponential")
_STRATEGIES = ("PACK", "SPREAD", "STRICT_SPREAD")


@dataclass(frozen=True)
class SupervisedConfig:
    """Settings of a supervised run (defaults: the book's ch. 5.3 CIFAR-10 program)."""

    model: str = "cifar10_cnn"
    """A name of the model registry (`actorflow.models.model_names()`)."""
    data_dir: str = ""
    """The folder with the CIFAR-10 binary files (or its parent holding
    cifar-10-batches-bin/); "" reads $ACTORFLOW_DATA_DIR/cifar-10-batches-bin."""
    input: str = "distorted"
    """"distorted": the book's random crops, flips, brightness and contrast, reshuffled
    every epoch; "plain": centre crops in file order (fixed batches)."""
    batch_size: int = 128
    """Images per step and worker (book: 128)."""
    optimizer: str = "adam"
    """"adam" (book), "sgd" or "momentum" (0.9)."""
    learning_rate: float = 1e-3
    """The initial learning rate (book: Adam 1e-3)."""
    lr_schedule: str = "constant"
    """"constant" (book) or "exponential": times `lr_decay_rate` every `lr_decay_steps`
    global steps (staircase, as the TensorFlow CIFAR-10 tutorial)."""
    lr_decay_steps: int = 1000
    """Global steps between decays of the exponential schedule."""
    lr_decay_rate: float = 0.1
    """The factor of each decay of the exponential schedule."""
    total_steps: int = 3000
    """Global steps to train (book: 3000)."""
    workers: int = 0
    """Ray workers computing gradients on their shards (0: train in this process)."""
    ps: int = 1
    """Parameter-server shards holding the variables (modes sync and async)."""
    mode: str = "sync"
    """With workers: "sync" (one round of every worker's gradients per step), "async"
    (gradients applied as they arrive) or "allreduce" (workers average their gradients in a
    ring, no ps)."""
    strategy: str = "PACK"
    """How the ps and worker tasks spread over a cluster's nodes (a placement-group
    strategy: "PACK", "SPREAD", "STRICT_SPREAD")."""
    checkpoint_every: int = 100
    """Global steps between checkpoints (with a logdir; the ps shards' too)."""
    log_every: int = 10
    """Global steps between progress lines and metrics rows."""
    seed: int = 0
    """Seeds the initial weights, the shuffles and the distortions."""
    eval_examples: int = 10_000
    """Test images whose accuracy is measured at the end (0: none; at most the file's)."""

    def __post_init__(self) -> None:
        bad = [f"{k}={getattr(self, k)!r}" for k in
               ("batch_size", "total_steps", "checkpoint_every", "log_every", "ps",
                "lr_decay_steps") if getattr(self, k) < 1]
        bad += [f"{k}={getattr(self, k)!r}" for k in ("workers", "seed", "eval_examples")
                if getattr(self, k) < 0]
        if not self.learning_rate > 0:
            bad.append(f"learning_rate={self.learning_rate!r}")
        if not 0 < self.lr_decay_rate <= 1:
            bad.append(f"lr_decay_rate={self.lr_decay_rate!r}")
        for key, known in (("mode", _MODES), ("optimizer", _OPTIMIZERS),
                           ("lr_schedule", _SCHEDULES), ("input", ("distorted", "plain")),
                           ("strategy", _STRATEGIES)):
            if getattr(self, key) not in known:
                bad.append(f"{key}={getattr(self, key)!r} (known: {', '.join(known)})")
        if bad:
            raise ValueError(f"SupervisedConfig: invalid {', '.join(bad)}")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "SupervisedConfig":
        """A config from a mapping (a CLI, a checkpoint's JSON).

        Raises:
            ValueError: an unknown key (naming it and the known keys), a bad value.
        """
        known = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown SupervisedConfig keys {unknown}; known: "
                             f"{', '.join(known)}")
        return cls(**values)


def build_graph(config: SupervisedConfig, spec) -> tf.Graph:
    """The training graph of `config` for the model `spec` (a `ModelSpec`): placeholders
    ``images`` and ``labels``, tensors ``logits``, ``total_loss``, ``accuracy``, ``correct``
    (the count of top-1 hits) and the op ``train``."""
    c = config
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(c.seed)
        images = tf.placeholder(tf.float32, [None, *spec.input_shape], name="images")
        labels = tf.placeholder(tf.int32, [None], name="labels")
        logits = tf.identity(spec(images, is_training=True)["logits"], name="logits")
        tf.losses.sparse_softmax_cross_entropy(labels, logits)
        loss = tf.identity(tf.losses.get_total_loss(), name="total_loss")
        hits = tf.cast(tf.nn.in_top_k(logits, labels, 1), tf.float32)
        tf.reduce_sum(hits, name="correct")
        tf.reduce_mean(hits, name="accuracy")
        step = tf.train.get_or_create_global_step()
        rate = c.learning_rate
        if c.lr_schedule == "exponential":
            rate = tf.train.exponential_decay(c.learning_rate, step, c.lr_decay_steps,
                                              c.lr_decay_rate, staircase=True)
        opt = {"adam": lambda: tf.train.AdamOptimizer(rate),
               "sgd": lambda: tf.train.GradientDescentOptimizer(rate),
               "momentum": lambda: tf.train.MomentumOptimizer(rate, 0.9)}[c.optimizer]()
        if c.workers and c.mode == "sync":
            opt = tf.train.SyncReplicasOptimizer(opt, c.workers, c.workers)
        opt.minimize(loss, global_step=step, name="train")
    return graph


class Supervised:
    """Trains `config.model` on CIFAR-10 with `config`'s input, optimizer and workers.

    Raises:
        ValueError: an unknown model (the message lists the known ones), a model that does
            not take CIFAR-10's 24x24x3 crops into 10 classes, a batch larger than a
            worker's shard of the files.
        FileNotFoundError: the data folder or one of its files is missing (absolute path).
    """

    name = "supervised"

    def __init__(self, config: SupervisedConfig = SupervisedConfig()) -> None:
        from actorflow.actors.executor import GraphExecutor
        from actorflow.models import UnknownModelError, get_model, model_names
        self.config = config
        try:
            spec = get_model(config.model)
        except UnknownModelError as e:
            raise ValueError(str(e)) from None
        if spec.input_shape != inputs.CROP_SHAPE or spec.num_classes != inputs.NUM_CLASSES:
            fits = [n for n in model_names() if get_model(n).input_shape == inputs.CROP_SHAPE
                    and get_model(n).num_classes == inputs.NUM_CLASSES]
            raise ValueError(f"model {config.model!r} takes inputs of shape "
                             f"{spec.input_shape} into {spec.num_classes} classes; the "
                             f"supervised trainer feeds CIFAR-10's {inputs.CROP_SHAPE} crops of "
                             f"{inputs.NUM_CLASSES} classes (models that fit: "
                             f"{', '.join(fits)})")
        self.data_dir = inputs.cifar10_dir(config.data_dir)
        self._batches(0, prefetch=0).check(max(1, config.workers))
        self.graph = build_graph(config, spec)
        # The driver's copy of the weights: the training session in-process, the
        # checkpointed and evaluated copy with workers.
        self.executor = GraphExecutor(self.graph, initialize=True)
        with self.executor.graph.as_default():
            self.saver = tf.train.Saver(max_to_keep=3)
        self.sess = self.executor.session
        self.step = 0
        self.trainer = None
        """The `ReplicatedTrainer` while a run with workers trains (its actors, e.g. to
        watch the global step or to kill one)."""

    # -- the run -----------------------------------------------------------------------
    def train(self, logdir: str | None = None, resume: bool = False,
              progress: bool = True) -> dict:
        """Trains until the global step reaches `total_steps`, then measures the test
        accuracy.

        Args:
            logdir: where the run's files go (None: progress line and final JSON only).
            resume: continue from the newest complete checkpoint in `logdir`.
            progress: print the progress line.

        Returns:
            The results: model, mode, workers, steps, final loss and accuracy (of the last
            logged batch), test_accuracy, wall_s, worker_restarts, images_per_s (training
            images per second from the first logged step on: the warm-up and the workers'
            start left out).

        Raises:
            NonFiniteLossError: the loss turned NaN or infinite.
            RuntimeError: a worker failed for another reason than its process dying.
        """
        c = self.config
        log = _SupervisedLogger(logdir, self.name, c, c.total_steps, quiet=not progress)
        ckpt = Checkpoint(logdir) if logdir else None
        ps_dir = os.path.join(logdir, "checkpoints", "ps") if logdir else None
        if resume:
            self._resume(ckpt, log)
        elif ps_dir and os.path.isdir(ps_dir):
            shutil.rmtree(ps_dir)  # a new run: the old run's ps state must not come back
        start, t0 = self.step, time.perf_counter()
        restarts = 0
        if c.workers == 0:
            self._train_local(log, ckpt)
        else:
            with tempfile.TemporaryDirectory(prefix="actorflow-ps-") as tmp:
                restarts = self._train_replicated(log, ckpt, ps_dir or tmp)
        if ckpt:
            self._save(ckpt, log)
        wall = time.perf_counter() - t0
        test = self.evaluate(c.eval_examples) if c.eval_examples else {}
        per_step = c.batch_size * (c.workers if c.workers and c.mode != "async" else 1)
        return log.close({
            "agent": self.name, "model": c.model, "mode": c.mode if c.workers else "local",
            "workers": c.workers, "ps": c.ps if c.workers and c.mode != "allreduce" else 0,
            "global_step": self.step, "loss": log.last.get("loss"),
            "accuracy": log.last.get("accuracy"), **test, "worker_restarts": restarts,
            "wall_s": round(wall, 2),
            "images_per_s": round(log.steps_per_s_after_first(start, wall) * per_step, 1)})

    def _train_local(self, log: "_SupervisedLogger", ckpt: Checkpoint | None) -> None:
        c = self.config
        data = self._batches(self.step)(0, 1)
        run = self.sess.make_callable(["train", "total_loss:0", "accuracy:0"],
                                      [inputs.IMAGES, inputs.LABELS])
        try:
            while self.step < c.total_steps:
                feeds = next(data)
                _, loss, accuracy = run(feeds[inputs.IMAGES], feeds[inputs.LABELS])
                self.step += 1
                if self.step % c.log_every == 0 or self.step == c.total_steps or log.due():
                    log.log(self.step, {"loss": float(loss), "accuracy": float(accuracy)})
                check_finite(self.step, {"loss": loss})  # before a save can keep it
                if ckpt and self.step % c.checkpoint_every == 0:
                    self._save(ckpt, log)
        finally:
            data.close()

    def _train_replicated(self, log: "_SupervisedLogger", ckpt: Checkpoint | None,
                          ps_dir: str) -> int:
        """Trains with `ReplicatedTrainer` in chunks up to each logged (and checkpointed)
        step; returns the number of worker restarts."""
        from actorflow.actors.executor import graph_def_bytes
        from actorflow.actors.trainer import ReplicatedTrainer
        c = self.config
        cluster = {"worker": c.workers} if c.mode == "allreduce" else \
            {"ps": c.ps, "worker": c.workers}
        # Sync and all-reduce workers take one batch per global step, async ones about one
        # per `workers` steps: where a resumed run's workers pick up their shards.
        start = self.step if c.mode != "async" else self.step // c.workers
        if self.step:
            self._seed_shards(ps_dir, 1 if c.mode == "allreduce" else c.ps)
        trainer = ReplicatedTrainer(graph_def_bytes(self.graph), "train",
                                    self._batches(start), cluster,
                                    mode=c.mode, strategy=c.strategy, checkpoint_dir=ps_dir,
                                    checkpoint_every=c.checkpoint_every, progress=False)
        probe = next(self._batches(0, distorted=False, prefetch=0)(0, 1))
        self.trainer = trainer
        try:
            self.step = trainer.global_step()  # the shards of a resumed run restored theirs
            while self.step < c.total_steps:
                trainer.train(min(c.total_steps, _next_multiple(self.step, c.log_every),
                                  _next_multiple(self.step, c.checkpoint_every)))
                before, self.step = self.step, trainer.global_step()
                self.executor.set_weights(trainer.weights())
                loss, accuracy = self.executor.run(["total_loss:0", "accuracy:0"], probe)
                log.log(self.step, {"loss": float(loss), "accuracy": float(accuracy)})
                check_finite(self.step, {"loss": loss})
                if ckpt and self.step // c.checkpoint_every > before // c.checkpoint_every:
                    self._save(ckpt, log)
            return trainer.worker_restarts
        finally:
            self.trainer = None
            trainer.shutdown()

    def _seed_shards(self, ps_dir: str, shards: int) -> None:
        """Starts the shards of a resumed run from the run checkpoint it resumed: the old
        shard files go, and each shard's pointer names that checkpoint (the shard restores
        its variables and slots by name, and takes the step its name ends in as its
        version). So the shards and the driver continue from the same step, whatever the
        previous run's ps count or mode was, or if it trained in this process."""
        prefix = os.path.abspath(os.path.join(ps_dir, os.pardir, f"model-{self.step}"))
        shutil.rmtree(ps_dir, ignore_errors=True)
        os.makedirs(ps_dir)
        for k in range(shards):
            tf.train.update_checkpoint_state(ps_dir, prefix, latest_filename=f"checkpoint-{k}")

    def _batches(self, start_step: int, distorted: bool | None = None, prefetch: int = 2):
        """The data function of this run's input, from batch `start_step` of each shard,
        with `prefetch` batches made ahead by a thread (0: none)."""
        from actorflow.actors.feeder import Prefetched
        c = self.config
        distorted = c.input == "distorted" if distorted is None else distorted
        batches = inputs.CifarBatches(self.data_dir, c.batch_size, distorted, c.seed,
                                      start_step)
        return Prefetched(batches, prefetch) if prefetch else batches

    # -- evaluation --------------------------------------------------------------------
    def evaluate(self, examples: int | None = None, batch_size: int = 500) -> dict:
        """Top-1 accuracy of the current weights on the first `examples` images of the test
        file (default: all of them), centre crops as the book's eval input.

        Returns:
            {"test_accuracy", "test_examples"}.
        """
        labels, images = inputs.read_records([inputs.test_file(self.data_dir)])
        if examples is not None:
            labels, images = labels[:examples], images[:examples]
        correct = 0.0
        for lo in range(0, len(labels), batch_size):
            feeds = {inputs.IMAGES: inputs.center_crop(images[lo:lo + batch_size]),
                     inputs.LABELS: labels[lo:lo + batch_size]}
            correct += float(self.executor.run("correct:0", feeds))
        return {"test_accuracy": round(correct / max(1, len(labels)), 4),
                "test_examples": len(labels)}

    # -- checkpoints -------------------------------------------------------------------
    def _save(self, ckpt: Checkpoint, log: "_SupervisedLogger") -> None:
        ckpt.save(self.sess, self.saver, self.step,
                  {"agent": self.name, "env_steps": self.step, "step": self.step,
                   "curve": log.curve, "config": dataclasses.asdict(self.config)})

    def _resume(self, ckpt: Checkpoint | None, log: "_SupervisedLogger") -> None:
        state = ckpt.restore(self.sess, self.saver, self.name) if ckpt else None
        if state is None:
            log.resume(0, [], [])  # starting afresh: the old run's metrics rows go
            log.curve = []
            return
        self.step = int(state["step"])
        log.resume(self.step, [], [])
        log.curve = [list(row) for row in state.get("curve", [])]

    def restore(self, prefix: str) -> None:
        """Loads the weights of checkpoint `prefix` (e.g. for `evaluate`)."""
        self.saver.restore(self.sess, prefix)


def _next_multiple(step: int, every: int) -> int:
    return (step // every + 1) * every


class _SupervisedLogger(RunLogger):
    """`RunLogger` with a progress line of loss and accuracy (no episodes), which also
    keeps the (step, loss, accuracy) rows that its curves draw."""

    episodic = False

    def __init__(self, *args, quiet: bool = False, **kwargs) -> None:
        super().__init__(*args, quiet=True, **kwargs)
        self.show = not quiet
        self.curve: list[list[float]] = []
        self.last: dict = {}
        self._times: list[tuple[int, float]] = []  # (step, perf_counter) of this run's logs

    def log(self, step: int, metrics: dict | None = None) -> None:
        metrics = dict(metrics or {})
        super().log(step, metrics)
        self.last = metrics
        self.curve.append([int(step), metrics.get("loss"), metrics.get("accuracy")])
        self._times.append((int(step), time.perf_counter()))
        if self.show:
            line = (f"{self.agent}: step {self.step}/{self.total_steps}  "
                    f"{self.steps_per_s():,.1f} steps/s  loss {metrics.get('loss', 0):.4f}  "
                    f"accuracy {metrics.get('accuracy', 0):.3f}")
            self.stream.write(line + ("\r" if self.stream.isatty() else "\n"))
            self.stream.flush()

    def steps_per_s_after_first(self, start: int, wall: float) -> float:
        """Steps per second between this run's first and last log; with fewer than two
        logs, over the whole `wall` seconds since step `start`."""
        if len(self._times) >= 2 and self._times[-1][0] > self._times[0][0]:
            (s0, t0), (s1, t1) = self._times[0], self._times[-1]
            return (s1 - s0) / max(t1 - t0, 1e-9)
        return (self.step - start) / max(wall, 1e-9)

    def close(self, result: dict) -> dict:
        if self.logdir and self.curve:
            rows = np.asarray(self.curve, dtype=np.float64)
            for name, column in zip(CURVES, (1, 2)):
                write_curve_png(os.path.join(self.logdir, name), rows[:, 0], rows[:, column])
        if self.show and self.stream.isatty():
            self.stream.write("\n")
        return super().close(result)
