"""word2vec steps/s with sparse (IndexedSlices) gradients vs dense gradients, at the book's
sizes: vocabulary 50,000, embedding 128, batch 128, 64 NCE samples, SGD at 1.0.

The graph is `actorflow.models.word2vec.skip_gram_nce`. Sparse: ``opt.minimize(loss)`` — the
gathers give `embeddings`, `nce_weights` and `nce_biases` IndexedSlices gradients, applied
with scatter_sub to the touched rows only. Dense: the same graph, the same gradients
converted with ``tf.convert_to_tensor`` (an unsorted_segment_sum into a [50000, 128] /
[50000] tensor) before ``opt.apply_gradients``, which then updates every row — what an
engine without IndexedSlices does.

Data: skip-gram (centre, context) pairs, the book's ``generate_batch`` rule (skip_window 1,
num_skips 2), from a text8-like corpus of Zipf-distributed word ids (rank 0, UNK, most
frequent), made up front so that the timing is the step only.

Two settings, each timing sparse and dense interleaved in the same run (medians of rounds):

- in process: ``Session.run(train_op)``;
- parameter server on Ray: 1 ps, 2 workers, synchronous rounds (SyncReplicasOptimizer), a
  global step per round; workers push (values, indices) in the sparse case, whole tables in
  the dense case, and pull back the rows changed since their version in the sparse case
  (`ParameterServer.pull_changes`: one ray.put per (since, version) shared by both
  workers), whole tables in the dense case.

Bytes per worker step each way (``ps_bytes_per_step``) are counted on the same protocol in
process (1 ps, 2 workers, sync): the arrays each push and each pull carries, a worker's
first (full) pull left out.

    python benchmarks/word2vec_sparse.py [--rounds 5] [--steps 20] [--ps-steps 6] [--no-ps]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks._timing import emit, interleaved  # noqa: E402

import actorflow as tf  # noqa: E402
from actorflow.models.word2vec import skip_gram_nce  # noqa: E402
from actorflow.train.optimizer import recorded_gradients  # noqa: E402

VOCAB, DIM, BATCH, SAMPLED = 50000, 128, 128, 64


def corpus(tokens: int, seed: int = 0) -> np.ndarray:
    """Word ids with a Zipf (s = 1) frequency over the vocabulary, as text8's ranks have."""
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, VOCAB + 1)
    return rng.choice(VOCAB, tokens, p=p / p.sum()).astype(np.int32)


def skip_gram_batches(data: np.ndarray, n: int, seed: int = 0) -> list[dict]:
    """`n` batches of the book's generate_batch (skip_window 1, num_skips 2): each centre word
    twice, with its left and its right neighbour as labels."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        centre = rng.integers(1, len(data) - 1, BATCH // 2)
        inputs = np.repeat(data[centre], 2)
        labels = np.stack([data[centre - 1], data[centre + 1]], 1).reshape(-1, 1)
        out.append({"inputs:0": inputs, "labels:0": labels.astype(np.int32)})
    return out


def build(dense: bool, replicas: int = 0):
    """The training graph; `replicas` > 0 wraps SGD in a SyncReplicasOptimizer."""
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(0)
        inputs = tf.placeholder(tf.int32, [BATCH], name="inputs")
        labels = tf.placeholder(tf.int32, [BATCH, 1], name="labels")
        loss = skip_gram_nce(inputs, labels, VOCAB, DIM, SAMPLED)["loss"]
        opt = tf.train.GradientDescentOptimizer(1.0)
        if replicas:
            opt = tf.train.SyncReplicasOptimizer(opt, replicas, replicas)
        grads = opt.compute_gradients(loss)
        if dense:
            grads = [(tf.convert_to_tensor(gr), v) for gr, v in grads]
        train = opt.apply_gradients(grads, global_step=tf.train.get_or_create_global_step())
    return g, train, loss


def in_process(batches: list[dict], steps: int, rounds: int) -> dict:
    sessions, pushed = {}, {}
    for kind in ("sparse", "dense"):
        g, train, _ = build(kind == "dense")
        sess = tf.Session(graph=g)
        with g.as_default():
            sess.run(tf.global_variables_initializer())
        sessions[kind] = (sess, train)
        pushed[kind] = pushed_bytes(sess, train, batches[0])

    def stepper(kind):
        sess, train = sessions[kind]
        it = iter(range(10**9))

        def step():
            sess.run(train, batches[next(it) % len(batches)])
        return step

    times = interleaved({k: stepper(k) for k in sessions}, repeat=steps, rounds=rounds)
    for sess, _ in sessions.values():
        sess.close()
    return {**_row(times["sparse"]["median_s"], times["dense"]["median_s"]),
            "pushed_bytes_per_step": pushed}


class Batches:
    """A picklable data function: worker i takes every other batch from i."""

    def __init__(self, batches: list[dict]) -> None:
        self.batches = batches

    def __call__(self, worker_index: int, num_workers: int):
        mine = self.batches[worker_index::num_workers]
        while True:
            yield from mine


def with_ps(batches: list[dict], steps: int, rounds: int) -> dict:
    from actorflow.actors._remote import ensure_ray
    from actorflow.actors.trainer import ReplicatedTrainer
    ensure_ray("local", include_dashboard=False)
    trainers = {}
    try:
        for kind in ("sparse", "dense"):
            g, train, _ = build(kind == "dense", replicas=2)
            # both clusters stay up (interleaved rounds): a quarter CPU per task fits 2 cores
            trainers[kind] = ReplicatedTrainer(g, train, Batches(batches),
                                               {"ps": 1, "worker": 2}, bundle={"CPU": 0.25},
                                               progress=False)
            trainers[kind].train(2)  # warm: plans compiled, first versions shared
        samples = {k: [] for k in trainers}
        for _ in range(rounds):
            for kind, trainer in trainers.items():
                target = trainer.global_step() + steps
                t0 = time.perf_counter()
                trainer.train(target)
                samples[kind].append((time.perf_counter() - t0) / steps)
    finally:
        for trainer in trainers.values():
            trainer.shutdown()
    return _row(statistics.median(samples["sparse"]), statistics.median(samples["dense"]))


def ps_bytes_per_step(batches: list[dict], steps: int = 4) -> dict:
    """Mean bytes per worker step pushed and pulled with 1 ps and 2 sync workers, in
    process (the same ParameterServer / ReplicaWorker protocol the Ray actors speak), a
    worker's first (full) pull left out."""
    from actorflow.actors.parameter_server import ParameterServer
    from actorflow.actors.replica_worker import CountingShard, ReplicaWorker
    out = {}
    for kind in ("sparse", "dense"):
        g, train, _ = build(kind == "dense", replicas=2)
        ps = ParameterServer(g, train.name)
        shard = CountingShard(ps)
        workers = [ReplicaWorker(g, train.name, [ps.variables], Batches(batches), i, 2)
                   for i in range(2)]
        threads = [threading.Thread(target=w.run, args=([shard], steps)) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        out[kind] = {"push": statistics.mean(shard.push_bytes),
                     "pull": statistics.mean(b for since, b in shard.pull_bytes if since >= 0),
                     "row_wise_variables": sorted(ps._row_wise_names)}
    out["dense_over_sparse"] = {d: out["dense"][d] / out["sparse"][d] for d in ("push", "pull")}
    return out


def _row(sparse_s: float, dense_s: float) -> dict:
    return {"sparse_steps_s": 1.0 / sparse_s, "dense_steps_s": 1.0 / dense_s,
            "sparse_step_ms": sparse_s * 1e3, "dense_step_ms": dense_s * 1e3,
            "speedup": dense_s / sparse_s}


def pushed_bytes(sess, train, batch: dict) -> int:
    """Bytes a worker pushes per step: the arrays of the gradient tensors the train op
    records (values and indices for sparse gradients), fetched for one batch."""
    names = [n for e in recorded_gradients(train) for n in e.tensors]
    return int(sum(a.nbytes for a in sess.run(names, batch)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20, help="in-process steps per round")
    ap.add_argument("--ps-steps", type=int, default=6, help="ps global steps per round")
    ap.add_argument("--no-ps", action="store_true", help="skip the Ray parameter server")
    args = ap.parse_args()
    batches = skip_gram_batches(corpus(1_000_000), 64)
    result = {"benchmark": "word2vec_sparse", "cores": os.cpu_count(), "vocabulary": VOCAB,
              "embedding": DIM, "batch": BATCH, "num_sampled": SAMPLED, "target_speedup": 5.0,
              "in_process": in_process(batches, args.steps, args.rounds)}
    print(result["in_process"], file=sys.stderr, flush=True)
    result["ps_bytes_per_worker_step"] = ps_bytes_per_step(batches)
    print(result["ps_bytes_per_worker_step"], file=sys.stderr, flush=True)
    if not args.no_ps:
        result["ps_1ps_2workers_sync_ray"] = with_ps(batches, args.ps_steps, args.rounds)
    emit(result)


if __name__ == "__main__":
    main()
