"""The supervised trainer in this process: the book's CIFAR-10 CNN trains on synthetic
CIFAR-10 binary files and writes the run's files; --resume continues exactly; the input is
the book's (records read by the core's reader, distortions as tf.image's ops), sharded
without loss or overlap; bad settings are refused naming them."""
from __future__ import annotations

import json

import numpy as np
import pytest

import actorflow as tf
from actorflow.agents import supervised_input as inputs
from actorflow.agents import Supervised, SupervisedConfig

from ..book._data import missing_message, real_data, write_cifar10


def synthetic_cifar(tmp_path_factory):
    """Synthetic CIFAR-10 binary files: 64 records in each training file, 64 test ones."""
    d = tmp_path_factory.mktemp("cifar") / "cifar-10-batches-bin"
    write_cifar10(d)
    return d


@pytest.fixture(scope="module")
def cifar_dir(tmp_path_factory):
    return synthetic_cifar(tmp_path_factory)


def _config(cifar_dir, **kw) -> SupervisedConfig:
    base = dict(data_dir=str(cifar_dir.parent), batch_size=8, total_steps=20, log_every=5,
                checkpoint_every=10, eval_examples=32)
    return SupervisedConfig(**{**base, **kw})


def _rows(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_cifar10_cnn_trains_in_process_and_writes_the_run_files(cifar_dir, tmp_path, capsys):
    agent = Supervised(_config(cifar_dir, total_steps=30))
    result = agent.train(str(tmp_path))
    out = capsys.readouterr()
    assert json.loads(out.out.strip().splitlines()[-1]) == result
    assert "supervised: step 30/30" in out.err and "loss" in out.err
    assert result["global_step"] == 30 and result["mode"] == "local"
    assert result["test_examples"] == 32 and 0 <= result["test_accuracy"] <= 1
    rows = _rows(tmp_path / "metrics.jsonl")
    assert [r["step"] for r in rows] == [5, 10, 15, 20, 25, 30]
    assert rows[-1]["loss"] < rows[0]["loss"]  # the band and colour of each class are learnt
    assert "episodes" not in rows[0] and "mean_return" not in rows[0]  # no episodes here
    for name in ("config.json", "summary.json", "loss.png", "accuracy.png"):
        assert (tmp_path / name).exists(), name
    assert list(tmp_path.glob("events.out.tfevents.*"))
    state = json.loads((tmp_path / "checkpoints" / "model-30.state.json").read_text())
    assert state["agent"] == "supervised" and state["step"] == 30


@pytest.mark.slow
def test_resume_continues_exactly(cifar_dir, tmp_path):
    straight = Supervised(_config(cifar_dir))
    straight.train(str(tmp_path / "a"), progress=False)
    Supervised(_config(cifar_dir, total_steps=10)).train(str(tmp_path / "b"), progress=False)
    resumed = Supervised(_config(cifar_dir))
    result = resumed.train(str(tmp_path / "b"), resume=True, progress=False)
    assert result["global_step"] == 20
    want, got = straight.executor.get_weights(), resumed.executor.get_weights()
    assert set(got) == set(want) and "conv1/weights/Adam" in got  # slots too
    for name in want:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)
    a, b = _rows(tmp_path / "a" / "metrics.jsonl"), _rows(tmp_path / "b" / "metrics.jsonl")
    assert [r["step"] for r in b] == [5, 10, 15, 20]
    assert [r["loss"] for r in b] == [r["loss"] for r in a]


def test_records_are_read_as_written_and_sharded_without_loss_or_overlap(cifar_dir):
    written = write_cifar10(cifar_dir.parent / "again")  # same seed: the same files
    labels, images = inputs.read_records([str(cifar_dir / "data_batch_2.bin")])
    np.testing.assert_array_equal(labels, written["data_batch_2.bin"][0])
    np.testing.assert_array_equal(images, written["data_batch_2.bin"][1])
    batches = inputs.CifarBatches(str(cifar_dir), 8)
    everything = np.concatenate([written[f"data_batch_{i}.bin"][1] for i in range(1, 6)])
    for workers in (2, 3, 7):  # file shards; with 7 > 5 files, record shards
        shards = [batches.shard(i, workers)[1] for i in range(workers)]
        assert [len(s) for s in shards] == [batches.shard_size(i, workers)
                                            for i in range(workers)]
        assert sum(len(s) for s in shards) == len(everything)
        keys = sorted(img.tobytes() for s in shards for img in s)
        assert keys == sorted(img.tobytes() for img in everything)


def test_a_batch_depends_only_on_seed_worker_and_step(cifar_dir):
    from_start = inputs.CifarBatches(str(cifar_dir), 8, seed=3)(1, 2)
    batches = [next(from_start) for _ in range(12)]  # past an epoch (3 files x 64 / 8)
    later = next(inputs.CifarBatches(str(cifar_dir), 8, seed=3, start_step=11)(1, 2))
    for key in (inputs.IMAGES, inputs.LABELS):
        np.testing.assert_array_equal(later[key], batches[11][key])
    assert batches[0][inputs.IMAGES].shape == (8, 24, 24, 3)
    assert not np.array_equal(batches[0][inputs.LABELS], batches[8][inputs.LABELS])


def test_distortions_are_the_book_tf_image_ops(cifar_dir):
    _, images = inputs.read_records([str(cifar_dir / "test_batch.bin")])
    images = images[:4]
    got = inputs.distort(images, np.random.default_rng(5))
    rng = np.random.default_rng(5)  # the draws distort makes, in its order
    tops, lefts = rng.integers(0, 9, 4), rng.integers(0, 9, 4)
    flips, delta = rng.random(4) < 0.5, rng.uniform(-63.0, 63.0, 4).astype(np.float32)
    factor = rng.uniform(0.2, 1.8, 4).astype(np.float32)
    with tf.Graph().as_default(), tf.Session() as sess:
        x = tf.placeholder(tf.float32, [24, 24, 3])
        d, f = tf.placeholder(tf.float32, []), tf.placeholder(tf.float32, [])
        out = tf.image.per_image_standardization(
            tf.image.adjust_contrast(tf.image.adjust_brightness(x, d), f))
        centre = tf.image.per_image_standardization(tf.image.resize_image_with_crop_or_pad(
            tf.cast(images, tf.float32), 24, 24))
        for i in range(4):
            crop = images[i, tops[i]:tops[i] + 24, lefts[i]:lefts[i] + 24].astype(np.float32)
            crop = crop[:, ::-1] if flips[i] else crop
            want = sess.run(out, {x: crop, d: delta[i], f: factor[i]})
            np.testing.assert_allclose(got[i], want, atol=2e-4)
        np.testing.assert_allclose(inputs.center_crop(images), sess.run(centre), atol=2e-4)


def test_the_loss_is_the_book_total_loss():
    from actorflow.models import get_model
    from actorflow.models.cifar10 import cifar10_loss
    from actorflow.agents.supervised import build_graph
    graph = build_graph(SupervisedConfig(), get_model("cifar10_cnn"))
    with graph.as_default(), tf.Session() as sess:
        book = cifar10_loss(graph.get_tensor_by_name("logits:0"),
                            graph.get_tensor_by_name("labels:0"))
        # cifar10_loss adds its own mean cross-entropy to the collection that tf.losses'
        # mean is in already: once too many
        cross_entropy = graph.get_tensor_by_name("cross_entropy:0")
        sess.run(tf.global_variables_initializer())
        feeds = {"images:0": np.random.default_rng(0).random((4, 24, 24, 3), np.float32),
                 "labels:0": np.array([1, 2, 3, 4])}
        ours, total, mean = sess.run(["total_loss:0", book, cross_entropy], feeds)
    assert ours == pytest.approx(total - mean, rel=1e-6)
    assert ours > mean  # the weight decay is in


@pytest.mark.parametrize("kw, message", [
    (dict(mode="ring"), "mode='ring' (known: sync, async, allreduce)"),
    (dict(batch_size=0), "batch_size=0"),
    (dict(learning_rate=-1.0), "learning_rate=-1.0"),
    (dict(optimizer="rmsprop"), "optimizer='rmsprop'"),
])
def test_bad_settings_are_refused_naming_them(kw, message):
    with pytest.raises(ValueError, match="SupervisedConfig: invalid .*" + message.replace(
            "(", r"\(").replace(")", r"\)")):
        SupervisedConfig(**kw)


def test_unknown_keys_models_and_data_are_named(cifar_dir, tmp_path):
    with pytest.raises(ValueError, match=r"unknown SupervisedConfig keys \['epochs'\]"):
        SupervisedConfig.from_dict({"epochs": 3})
    with pytest.raises(ValueError, match="Unknown model 'cifar11'; known models: .*cifar10_cnn"):
        Supervised(_config(cifar_dir, model="cifar11"))
    with pytest.raises(ValueError, match=r"model 'vgg_16' takes inputs of shape \(224, 224, 3\) "
                                         r"into 1000 classes; .* \(models that fit: cifar10_cnn"):
        Supervised(_config(cifar_dir, model="vgg_16"))
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match=f"CIFAR-10 data folder {missing} does not"):
        Supervised(_config(cifar_dir, data_dir=str(missing)))
    (tmp_path / "partial").mkdir()
    (tmp_path / "partial" / "data_batch_1.bin").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="data_batch_2.bin is missing"):
        Supervised(_config(cifar_dir, data_dir=str(tmp_path / "partial")))
    with pytest.raises(ValueError, match="batch_size 100 is larger than worker 2 of 3's shard "
                                         r".* \(64 images\)"):
        Supervised(_config(cifar_dir, batch_size=100, workers=3))


@pytest.mark.slow
def test_real_cifar10_trains_when_present():
    found = real_data("cifar-10-batches-bin")
    if found is None:
        pytest.skip(missing_message("cifar-10-batches-bin"))
    result = Supervised(SupervisedConfig(data_dir=str(found), total_steps=200,
                                         eval_examples=1000)).train(progress=False)
    assert result["test_accuracy"] > 0.25  # 10% is chance; the book reaches 73% at 3000


# -- the command line -----------------------------------------------------------------------
def _main(capsys, *argv: str) -> tuple[int, str, str]:
    from actorflow.agents.cli import main
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.slow
def test_cli_trains_resumes_and_evaluates(cifar_dir, tmp_path, capsys):
    run = str(tmp_path / "run")
    common = ("--model", "cifar10_cnn", "--data", str(cifar_dir), "--batch-size", "8",
              "--logdir", run, "--checkpoint-every", "5")
    code, out, err = _main(capsys, "train", "supervised", "--steps", "10", *common)
    assert code == 0, err
    first = json.loads(out.strip().splitlines()[-1])
    assert first["global_step"] == 10 and first["test_examples"] == 64
    assert "supervised: step 10/10" in err
    code, out, err = _main(capsys, "train", "supervised", "--steps", "15", *common, "--resume")
    assert code == 0, err
    assert "resuming from" in err and "model-10" in err
    assert json.loads(out.strip().splitlines()[-1])["global_step"] == 15
    code, out, err = _main(capsys, "eval", "--logdir", run)
    assert code == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert result["checkpoint"].endswith("model-15") and result["test_examples"] == 64
    assert 0 <= result["test_accuracy"] <= 1


@pytest.mark.parametrize("argv, message", [
    (["train", "supervised", "--model", "cifar11"],
     "Unknown model 'cifar11'; known models: "),
    (["train", "supervised", "--data", "no/such/dir"],
     "CIFAR-10 data folder {cwd}/no/such/dir does not exist"),
    (["train", "supervised", "--mode", "async", "--ps", "0"], "--ps must be >= 1, got 0"),
    (["train", "pg", "--model", "cifar10_cnn"], "--model: only for train supervised, not pg"),
    (["train", "supervised", "--env", "CartPole-v1"], "--env is for the RL agents"),
    (["eval"], "eval needs a run: give --logdir D"),
])
def test_cli_bad_input_is_named_on_one_line(argv, message, capsys):
    import os
    code, _, err = _main(capsys, *argv)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("actorflow: error: ")
    assert message.format(cwd=os.getcwd()) in lines[0]
