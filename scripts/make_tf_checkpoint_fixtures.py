"""Writes the TensorFlow-made V2 checkpoints that actorflow's TF checkpoint reader is tested on.

Run it with the TensorFlow reference venv, never from the tests (the project does not import
TensorFlow)::

    /work/tfvenv/bin/python scripts/make_tf_checkpoint_fixtures.py

It writes tests/platform/fixtures/tf_checkpoints/:
  dtypes.ckpt.*          one tf.train.Saver save of variables of many dtypes and shapes
                         (scalar, float16..64, int8..64, uint8/16, complex64, bool, string)
                         and a partitioned variable (saved as two slices of one tensor);
  dtypes.npz             the values TensorFlow saved, by checkpoint name;
  v1.ckpt, v1.npz        other values of the same variables in TF's V1 format (one table file
                         with the values as TensorProtos);
  v1_sharded.ckpt-0000N-of-00002, v1_sharded.npz   a sharded V1 save;
  sharded.ckpt.*         a sharded save (variables on two CPU devices: two data shards);
  sharded.npz            its values;
  cifar.ckpt.*           the book's ch. 5.3 CIFAR-10 CNN at 8x8x3 input with seeded random
                         weights under the tutorial's names (conv1/weights, ...);
  cifar_scoped.ckpt.*    conv1's and softmax_linear's weights again, under the scope "cifar/"
                         (cifar/conv1/weights, ...);
  cifar.npz              the input batch ("images", 2x8x8x3) and the logits TensorFlow computed
                         for it ("logits").
"""
from __future__ import annotations

import os
import shutil

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

tf.disable_v2_behavior()

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                   "tests", "platform", "fixtures", "tf_checkpoints")


def _save(values: dict, prefix: str, sharded: bool = False, partitioned=None,
          version=tf.train.SaverDef.V2) -> dict:
    """Saves `values` ({name: array}) as variables with tf.train.Saver (format `version`);
    returns what was saved by checkpoint name (the partitioned variable under its full
    name)."""
    config = tf.ConfigProto(device_count={"CPU": 2})
    saved = dict(values)
    with tf.Graph().as_default():
        variables = []
        for i, (name, value) in enumerate(values.items()):
            device = f"/cpu:{i % 2}" if sharded else "/cpu:0"
            with tf.device(device):
                variables.append(tf.Variable(value, name=name))
        if partitioned is not None:
            name, value = partitioned

            def init(shape, dtype=None, partition_info=None, value=value):
                start = partition_info.var_offset[0] if partition_info else 0
                return tf.constant(value[start:start + shape[0]], dtype=dtype)

            parts = tf.get_variable(name, value.shape, dtype=tf.as_dtype(value.dtype),
                                    initializer=init, partitioner=tf.fixed_size_partitioner(2))
            variables.extend(parts)
            saved[name] = value
        saver = tf.train.Saver(variables, sharded=sharded, write_version=version)
        with tf.Session(config=config) as sess:
            sess.run(tf.global_variables_initializer())
            saver.save(sess, os.path.join(OUT, prefix), write_meta_graph=False,
                       write_state=False)
    return saved


def dtypes_fixture(rng: np.random.Generator, prefix: str = "dtypes",
                   version=tf.train.SaverDef.V2) -> None:
    values = {
        "scalar": np.float32(3.25),
        "f16": rng.standard_normal((3, 2)).astype(np.float16),
        "f32": rng.standard_normal((2, 3, 4)).astype(np.float32),
        "f64": rng.standard_normal((5,)),
        "i8": rng.integers(-128, 127, (4,), dtype=np.int8),
        "i16": rng.integers(-30000, 30000, (2, 2), dtype=np.int16),
        "i32": rng.integers(-2**31, 2**31 - 1, (3,), dtype=np.int32),
        "i64": np.array([-(2**62), 0, 2**62 + 12345], dtype=np.int64),
        "u8": rng.integers(0, 255, (2, 3), dtype=np.uint8),
        "u16": rng.integers(0, 65535, (3,), dtype=np.uint16),
        "c64": (rng.standard_normal(3) + 1j * rng.standard_normal(3)).astype(np.complex64),
        "flags": np.array([True, False, True, True]),
        "empty": np.zeros((0, 3), np.float32),
        "zeros": np.zeros((2, 3), np.int32),
        "halfzeros": np.zeros(4, np.float16),
        "words": np.array([b"alpha", b"", b"\xff\x00bytes", b"x" * 200], dtype=object),
        "scope/inner/w": rng.standard_normal((2, 2)).astype(np.float32),
    }
    part = rng.standard_normal((5, 3)).astype(np.float32)
    saved = _save(values, prefix + ".ckpt", partitioned=("part", part), version=version)
    np.savez(os.path.join(OUT, prefix + ".npz"),
             **{k.replace("/", "__"): np.asarray(v, dtype="S") if k == "words" else v
                for k, v in saved.items()})


def sharded_fixture(rng: np.random.Generator, prefix: str = "sharded",
                    version=tf.train.SaverDef.V2) -> None:
    values = {f"v{i}": rng.standard_normal((i + 1, 2)).astype(np.float32) for i in range(4)}
    _save(values, prefix + ".ckpt", sharded=True, version=version)
    np.savez(os.path.join(OUT, prefix + ".npz"), **values)


# (name, shape, stddev of the tutorial's initialiser); dim = 2 * 2 * 64 at 8x8 input.
CIFAR_VARIABLES = (("conv1/weights", (5, 5, 3, 64), 5e-2), ("conv1/biases", (64,), 0.1),
                   ("conv2/weights", (5, 5, 64, 64), 5e-2), ("conv2/biases", (64,), 0.1),
                   ("local3/weights", (256, 384), 0.04), ("local3/biases", (384,), 0.1),
                   ("local4/weights", (384, 192), 0.04), ("local4/biases", (192,), 0.1),
                   ("softmax_linear/weights", (192, 10), 1 / 192.0),
                   ("softmax_linear/biases", (10,), 0.1))
# The variables saved again under "cifar/" (the small ones: the assignment-map tests).
SCOPED = ("conv1/weights", "conv1/biases", "softmax_linear/weights", "softmax_linear/biases")


def _cifar_weights(rng: np.random.Generator) -> dict:
    """Seeded weights with the tutorial's scales, truncated at 2 sigma and rounded to
    multiples of stddev/16: any float32 values serve the logits check, and these few
    distinct values keep the committed files compressible (git stores them zlib'd)."""
    out = {}
    for name, shape, std in CIFAR_VARIABLES:
        w = np.clip(rng.standard_normal(shape), -2.0, 2.0)
        out[name] = (np.round(w * 16) * np.float32(std / 16)).astype(np.float32)
    return out


def _cifar_logits(images, weights: dict):
    """The ch. 5.3 CNN (tutorial names) with its weights as tf.get_variable variables."""
    lrn = dict(depth_radius=4, bias=1.0, alpha=0.001 / 9.0, beta=0.75)

    def var(name):
        scope = tf.get_variable_scope().name
        return tf.get_variable(name, initializer=weights[f"{scope}/{name}"])

    with tf.variable_scope("conv1"):
        conv = tf.nn.conv2d(images, var("weights"), [1, 1, 1, 1], "SAME")
        net = tf.nn.relu(tf.nn.bias_add(conv, var("biases")))
    net = tf.nn.max_pool(net, [1, 3, 3, 1], [1, 2, 2, 1], "SAME")
    net = tf.nn.lrn(net, **lrn)
    with tf.variable_scope("conv2"):
        conv = tf.nn.conv2d(net, var("weights"), [1, 1, 1, 1], "SAME")
        net = tf.nn.relu(tf.nn.bias_add(conv, var("biases")))
    net = tf.nn.lrn(net, **lrn)
    net = tf.nn.max_pool(net, [1, 3, 3, 1], [1, 2, 2, 1], "SAME")
    net = tf.reshape(net, [images.shape[0], -1])
    for name in ("local3", "local4"):
        with tf.variable_scope(name):
            net = tf.nn.relu(tf.matmul(net, var("weights")) + var("biases"))
    with tf.variable_scope("softmax_linear"):
        return tf.matmul(net, var("weights")) + var("biases")


def cifar_fixture(rng: np.random.Generator) -> None:
    images = rng.uniform(-1.0, 1.0, (2, 8, 8, 3)).astype(np.float32)
    weights = _cifar_weights(rng)
    with tf.Graph().as_default():
        logits = _cifar_logits(tf.constant(images), weights)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            out = sess.run(logits)
            tf.train.Saver().save(sess, os.path.join(OUT, "cifar.ckpt"),
                                  write_meta_graph=False, write_state=False)
    with tf.Graph().as_default():
        scoped = [tf.Variable(weights[name], name="cifar/" + name) for name in SCOPED]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            tf.train.Saver(scoped).save(sess, os.path.join(OUT, "cifar_scoped.ckpt"),
                                        write_meta_graph=False, write_state=False)
    np.savez(os.path.join(OUT, "cifar.npz"), images=images, logits=out)


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    rng = np.random.default_rng(2026)
    dtypes_fixture(rng)
    sharded_fixture(rng)
    cifar_fixture(rng)
    dtypes_fixture(rng, "v1", tf.train.SaverDef.V1)
    sharded_fixture(rng, "v1_sharded", tf.train.SaverDef.V1)
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} files, {total} bytes, to {OUT}")


if __name__ == "__main__":
    main()
