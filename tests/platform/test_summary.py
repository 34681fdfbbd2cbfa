"""tf.summary: the protobuf wire format, CRC-32C, PNG, histograms, summary ops and FileWriter.

Event files are read back with our own TFRecord reader (both CRCs checked) and decoder; when
the `tensorboard` package is importable, also with TensorBoard's EventAccumulator.
"""
import struct
import sys
import zlib

import numpy as np
import pytest

import actorflow as tf
from actorflow import errors
from actorflow.io import tf_record as record_io
from actorflow.summary import encode, wire
from actorflow.summary.protos import Event, GraphDef, RunMetadataProto


# -- CRC-32C and record framing ------------------------------------------------------------
@pytest.mark.parametrize("data,crc", [
    (b"123456789", 0xE3069283),
    (b"", 0x00000000),
    (bytes(32), 0x8A9136AA),  # RFC 3720 B.4 test vectors
    (b"\xff" * 32, 0x62A8AB43),
    (bytes(range(32)), 0x46DD794E),
    (bytes(range(31, -1, -1)), 0x113FDB5C),
])
def test_crc32c_known_vectors(data, crc):
    assert record_io.crc32c(data) == crc


def test_record_framing_and_corruption_is_data_loss(tmp_path):
    path = tmp_path / "records"
    payloads = [b"", b"abc", bytes(range(256)) * 40]
    path.write_bytes(b"".join(record_io.encode_record(p) for p in payloads))
    assert list(record_io.tf_record_iterator(str(path))) == payloads
    raw = path.read_bytes()
    header = raw[:8]
    assert struct.unpack("<Q", header)[0] == 0
    crc = record_io.crc32c(header)
    masked = (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF
    assert struct.unpack("<I", raw[8:12])[0] == masked
    bad = bytearray(raw)
    bad[30] ^= 1  # inside the "abc" record's data
    path.write_bytes(bytes(bad))
    with pytest.raises(errors.DataLossError, match="corrupted record"):
        list(record_io.tf_record_iterator(str(path)))
    path.write_bytes(raw[:-3])
    with pytest.raises(errors.DataLossError, match="truncated"):
        list(record_io.tf_record_iterator(str(path)))


# -- wire format ---------------------------------------------------------------------------
def test_varints():
    assert wire.encode_varint(0) == b"\x00"
    assert wire.encode_varint(300) == b"\xac\x02"
    assert wire.encode_varint(-1) == b"\xff" * 9 + b"\x01"
    assert wire.decode_varint(b"\xac\x02", 0) == (300, 2)
    with pytest.raises(wire.DecodeError):
        wire.decode_varint(b"\xac", 0)


def test_summary_encoding_is_protobufs():
    s = tf.Summary(value=[tf.Summary.Value(tag="loss", simple_value=3.5),
                          tf.Summary.Value(tag="zero", simple_value=0.0)])
    data = s.SerializeToString()
    # field 1 (value), length 11: field 1 (tag) "loss", field 2 fixed32 float 3.5
    assert data.startswith(b"\x0a\x0b\x0a\x04loss\x15" + struct.pack("<f", 3.5))
    assert data.endswith(b"\x0a\x04zero\x15\x00\x00\x00\x00")  # a oneof 0.0 is written
    assert tf.Summary.FromString(data) == s
    e = Event(wall_time=1.5, step=-3, summary=s)
    back = Event.FromString(e.SerializeToString())
    assert (back.wall_time, back.step, back.summary) == (1.5, -3, s)


def test_summary_value_add_and_unknown_fields():
    s = tf.Summary()
    s.value.add(tag="a", simple_value=1.0)
    assert s.value[0].tag == "a"
    with pytest.raises(AttributeError, match="no field"):
        tf.Summary.Value(colour="red")
    # a field number the message does not declare (99, varint) is skipped
    extra = s.SerializeToString() + wire.encode_varint(99 << 3) + b"\x05"
    assert tf.Summary.FromString(extra) == s


def test_repeated_numbers_decode_packed_and_unpacked():
    h = tf.HistogramProto(bucket_limit=[1.0, 2.5], bucket=[0.0, 3.0])
    assert tf.HistogramProto.FromString(h.SerializeToString()) == h
    unpacked = b"".join(b"\x31" + struct.pack("<d", v) for v in (1.0, 2.5))  # field 6, fixed64
    assert tf.HistogramProto.FromString(unpacked).bucket_limit == [1.0, 2.5]


# -- PNG, histograms, images -----------------------------------------------------------------
def _decode_png(png: bytes) -> np.ndarray:
    """A minimal PNG reader for the files encode_png writes (8-bit, filter 0)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(png):
        n = struct.unpack(">I", png[pos:pos + 4])[0]
        kind, data = png[pos + 4:pos + 8], png[pos + 8:pos + 8 + n]
        assert struct.unpack(">I", png[pos + 8 + n:pos + 12 + n])[0] == zlib.crc32(kind + data)
        chunks[kind] = chunks.get(kind, b"") + data
        pos += 12 + n
    w, h, depth, color = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    channels = {0: 1, 4: 2, 2: 3, 6: 4}[color]
    assert depth == 8 and b"IEND" in chunks
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(h, -1)
    assert np.all(rows[:, 0] == 0)
    return rows[:, 1:].reshape(h, w, channels)


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_png_round_trip(channels):
    img = np.random.default_rng(channels).integers(0, 256, (5, 7, channels), dtype=np.uint8)
    np.testing.assert_array_equal(_decode_png(encode.encode_png(img)), img)


def test_default_histogram_buckets_are_tfs():
    limits = encode.default_bucket_limits()
    assert limits.size == 2 * 775 + 1 and limits[775] == 0.0
    np.testing.assert_array_equal(limits[776:], -limits[774::-1])
    assert limits[776] == 1e-12 and limits[-1] == sys.float_info.max
    np.testing.assert_allclose(limits[777:-1] / limits[776:-2], 1.1)
    assert limits[-2] < 1e20 <= limits[-2] * 1.1


def _histogram_reference(x):
    """TF's Histogram::Add and EncodeToProto, written as loops."""
    limits = encode.default_bucket_limits().tolist()
    counts = [0.0] * len(limits)
    for v in x:
        counts[next(i for i, lim in enumerate(limits) if v < lim)] += 1
    out_limits, out_counts, i = [], [], 0
    while i < len(counts):
        end, count = limits[i], counts[i]
        i += 1
        if count <= 0:
            while i < len(counts) and counts[i] <= 0:
                end, count = limits[i], counts[i]
                i += 1
        out_limits.append(end)
        out_counts.append(count)
    return out_limits, out_counts


def test_histogram_proto_matches_tfs_algorithm():
    x = np.concatenate([np.random.default_rng(0).standard_normal(50) * 10, [0.0, 0.0, 1e-12]])
    h = encode.histogram_proto(x)
    limits, counts = _histogram_reference(x.tolist())
    assert h.bucket_limit == limits and h.bucket == counts
    assert (h.min, h.max, h.num) == (x.min(), x.max(), 53.0)
    np.testing.assert_allclose([h.sum, h.sum_squares], [x.sum(), (x * x).sum()])
    with pytest.raises(ValueError, match="Nan"):
        encode.histogram_proto([1.0, np.nan])


def test_histogram_buckets_are_exact_at_every_limit():
    # Each limit, its two float neighbours, values of every magnitude, and the extremes land
    # where TF's upper_bound puts them (DBL_MAX, past the last limit, in the last bucket).
    limits = encode.default_bucket_limits()
    with np.errstate(over="ignore"):
        edges = np.concatenate([limits, np.nextafter(limits, np.inf),
                                np.nextafter(limits, -np.inf)])
    rng = np.random.default_rng(3)
    spread = rng.standard_normal(20_000) * 10.0 ** rng.integers(-16, 24, 20_000)
    x = np.concatenate([edges[np.isfinite(edges)], spread, [0.0, -0.0, 5e-324, -5e-324]])
    want = np.minimum(np.searchsorted(limits, x, side="right"), limits.size - 1)
    np.testing.assert_array_equal(encode._bucket_index(x), want)
    with np.errstate(over="ignore"):  # their sum of squares is inf, as in TF
        h = encode.histogram_proto([sys.float_info.max, -sys.float_info.max])
    assert sum(h.bucket) == h.num == 2.0


def test_histograms_bin_without_a_binary_search_per_value(monkeypatch):
    # A binary search per value made a histogram of a 784x512 layer cost ~20 ms per run;
    # see benchmarks/summary_histogram.py for the measured cost.
    searchsorted = np.searchsorted

    def no_per_value_search(a, v, *args, **kwargs):
        assert np.size(v) <= 1, "histogram_proto binary-searched every value"
        return searchsorted(a, v, *args, **kwargs)

    monkeypatch.setattr(np, "searchsorted", no_per_value_search)
    x = np.random.default_rng(4).standard_normal(10_000).astype(np.float32)
    h = encode.histogram_proto(x)
    assert sum(h.bucket) == 10_000.0


def test_float_images_are_scaled_as_tf_does():
    pos = np.array([[[0.0], [0.5]], [[1.0], [2.0]]])
    neg = np.array([[[-1.0, 0.0, 0.5]], [[np.inf, 0.0, 0.0]]])
    (v,) = encode.image_values("pos", pos[None], 1, [255, 0, 0, 255])
    assert v.tag == "pos/image" and (v.image.height, v.image.width, v.image.colorspace) == \
        (2, 2, 1)
    np.testing.assert_array_equal(_decode_png(v.image.encoded_image_string)[..., 0],
                                  [[0, 63], [127, 255]])
    (v,) = encode.image_values("neg", neg[None], 3, [255, 0, 0, 255])
    assert v.tag == "neg/image/0"
    # min -1 -> scale 127, offset 128; the non-finite pixel is painted bad_color
    np.testing.assert_array_equal(_decode_png(v.image.encoded_image_string),
                                  [[[1, 128, 191]], [[255, 0, 0]]])


# -- summary ops ---------------------------------------------------------------------------
def test_tags_follow_name_scopes_family_and_cleaning():
    x = tf.constant(1.0)
    with tf.name_scope("train"):
        a = tf.summary.scalar("loss", x)
        b = tf.summary.scalar("loss", x)
    c = tf.summary.scalar("acc", x, family="eval")
    d = tf.summary.scalar("bad name!", x)
    e = tf.summary.histogram("h", x, collections=["mine"])
    assert [t.op.name for t in (a, b, c, d)] == ["train/loss", "train/loss_1", "eval/acc",
                                                  "bad_name_"]
    assert tf.get_collection(tf.GraphKeys.SUMMARIES) == [a, b, c, d]
    assert tf.get_collection("mine") == [e]
    with tf.Session() as sess:
        tags = [v.tag for v in tf.Summary.FromString(
            sess.run(tf.summary.merge_all())).value]
    assert tags == ["train/loss", "train/loss_1", "eval/eval/acc", "bad_name_"]


def test_merge_all_of_an_empty_collection_is_none():
    assert tf.summary.merge_all() is None


def test_scalar_summary_rejects_non_scalars_and_strings():
    with pytest.raises(ValueError, match="same shape"):
        tf.summary.scalar("v", tf.zeros([3]))
    with pytest.raises(TypeError, match="real numbers"):
        tf.summary.scalar("s", tf.constant("text"))
    x = tf.placeholder(tf.float32)
    s = tf.summary.scalar("v", x)
    with tf.Session() as sess, pytest.raises(errors.InvalidArgumentError, match="same shape"):
        sess.run(s, {x: [1.0, 2.0]})


def test_run_time_errors_name_the_problem():
    x = tf.placeholder(tf.float32, [None])
    h = tf.summary.histogram("h", x)
    dup = tf.summary.merge([tf.summary.scalar("t", 1.0), tf.summary.scalar("t", 2.0,
                                                                           family=None)])
    same = tf.summary.merge([h, h])
    with tf.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError, match="Nan in summary histogram for: h"):
            sess.run(h, {x: [1.0, np.nan]})
        assert len(tf.Summary.FromString(sess.run(dup)).value) == 2  # t and t_1
        with pytest.raises(errors.InvalidArgumentError, match="Duplicate tag h"):
            sess.run(same, {x: [1.0]})


def test_image_summary_checks_its_input():
    with pytest.raises(ValueError, match="4-D"):
        tf.summary.image("i", tf.zeros([2, 2, 2]))
    with pytest.raises(ValueError, match="4-D"):
        tf.summary.image("i", tf.zeros([1, 2, 2, 2]))
    with pytest.raises(TypeError, match="uint8 or float"):
        tf.summary.image("i", tf.zeros([1, 2, 2, 1], tf.int32))


def test_text_summary_needs_strings():
    with pytest.raises(ValueError, match="dtype string"):
        tf.summary.text("t", tf.constant(1.0))


# -- FileWriter ----------------------------------------------------------------------------
def _events(logdir):
    files = sorted(p for p in logdir.iterdir() if p.name.startswith("events.out.tfevents."))
    assert files
    return [list(tf.summary.summary_iterator(str(f))) for f in files]


def test_file_writer_writes_readable_events(tmp_path):
    x = tf.placeholder(tf.float32, [None], name="x")
    with tf.name_scope("layer"):
        y = tf.multiply(x, 2.0, name="y")
    tf.summary.scalar("loss", tf.reduce_mean(y))
    tf.summary.histogram("values", y)
    tf.summary.image("img", tf.reshape(y, [1, 2, 2, 1]))
    tf.summary.text("note", tf.constant("hello"))
    merged = tf.summary.merge_all()
    with tf.Session() as sess:
        writer = tf.summary.FileWriter(str(tmp_path), sess.graph, filename_suffix=".v2")
        for step in range(3):
            md = tf.RunMetadata()
            opts = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
            s = sess.run(merged, {x: np.arange(4.0) + step}, options=opts, run_metadata=md)
            writer.add_summary(s, global_step=step)
            writer.add_run_metadata(md, f"step{step:03d}", step)
        writer.add_summary(tf.Summary(value=[tf.Summary.Value(tag="r", simple_value=7.0)]), 9)
        writer.add_session_log(tf.SessionLog(status=tf.SessionLog.STOP), 10)
        assert writer.get_logdir() == str(tmp_path)
        writer.close()
    (events,) = _events(tmp_path)
    assert next(tmp_path.iterdir()).name.endswith(".v2")
    assert events[0].file_version == "brain.Event:2"
    assert all(e.wall_time > 1e9 for e in events)
    graph = GraphDef.FromString(events[1].graph_def)
    nodes = {n.name: n for n in graph.node}
    assert nodes["layer/y"].op == "Mul" and nodes["layer/y"].input == ["x", "layer/Const"]
    summaries = [e for e in events if e.summary is not None]
    assert [e.step for e in summaries] == [0, 1, 2, 9]
    for step, e in enumerate(summaries[:3]):
        vals = {v.tag: v for v in e.summary.value}
        assert sorted(vals) == ["img/image/0", "loss", "note", "values"]
        assert vals["loss"].simple_value == 2 * (1.5 + step)
        assert vals["values"].histo.max == 2 * (3 + step)
        assert vals["img/image/0"].image.height == 2
        assert vals["note"].tensor.string_val == [b"hello"]
        # plugin metadata only with a tag's first value, as TF 1.x writes it
        assert (vals["note"].metadata is not None) == (step == 0)
    assert summaries[3].summary.value[0].simple_value == 7.0
    meta = [e for e in events if e.tagged_run_metadata is not None]
    assert [e.tagged_run_metadata.tag for e in meta] == ["step000", "step001", "step002"]
    stats = RunMetadataProto.FromString(meta[0].tagged_run_metadata.run_metadata).step_stats
    assert "layer/y" in {n.node_name for n in stats.dev_stats[0].node_stats}
    assert events[-1].session_log.status == tf.SessionLog.STOP and events[-1].step == 10


def test_run_metadata_tags_are_unique(tmp_path):
    with tf.summary.FileWriter(str(tmp_path)) as writer:
        writer.add_run_metadata(tf.RunMetadata(), "t")
        with pytest.raises(ValueError, match="already been used"):
            writer.add_run_metadata(tf.RunMetadata(), "t")


def test_flush_makes_events_readable_and_reopen_starts_a_new_file(tmp_path):
    writer = tf.summary.FileWriter(str(tmp_path / "run"), max_queue=100, flush_secs=1000)
    writer.add_summary(tf.Summary(value=[tf.Summary.Value(tag="a", simple_value=1.0)]), 1)
    writer.flush()
    (events,) = _events(tmp_path / "run")
    assert [e.step for e in events] == [0, 1]
    writer.close()
    writer.add_summary(tf.Summary(value=[tf.Summary.Value(tag="a", simple_value=2.0)]), 2)
    writer.reopen()
    writer.add_summary(tf.Summary(value=[tf.Summary.Value(tag="a", simple_value=3.0)]), 3)
    writer.close()
    first, second = _events(tmp_path / "run")
    assert [e.step for e in first] == [0, 1]  # the add after close() is dropped
    assert second[0].file_version and [e.step for e in second[1:]] == [3]


def test_add_graph_accepts_a_graph_def(tmp_path):
    tf.constant([1.0, 2.0], name="c")
    with tf.summary.FileWriter(str(tmp_path), graph_def=tf.get_default_graph().as_graph_def()):
        pass
    (events,) = _events(tmp_path)
    (node,) = GraphDef.FromString(events[1].graph_def).node
    attrs = {a.key: a.value for a in node.attr}
    assert node.name == "c" and attrs["dtype"].type == 1
    tensor = attrs["value"].tensor
    assert [d.size for d in tensor.tensor_shape.dim] == [2]
    np.testing.assert_array_equal(np.frombuffer(tensor.tensor_content, "<f4"), [1.0, 2.0])


def test_file_writer_cache_shares_a_writer(tmp_path):
    try:
        a = tf.summary.FileWriterCache.get(str(tmp_path))
        assert tf.summary.FileWriterCache.get(str(tmp_path)) is a
    finally:
        tf.summary.FileWriterCache.clear()


def test_tensorboard_reads_the_event_file(tmp_path):
    accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    x = tf.placeholder(tf.float32, [None])
    tf.summary.scalar("loss", tf.reduce_mean(x))
    tf.summary.histogram("values", x)
    tf.summary.image("img", tf.reshape(x, [1, 2, 2, 1]))
    merged = tf.summary.merge_all()
    with tf.Session() as sess:
        writer = tf.summary.FileWriter(str(tmp_path), sess.graph)
        for step in range(2):
            writer.add_summary(sess.run(merged, {x: np.arange(4.0) * (step + 1)}), step)
        writer.add_run_metadata(tf.RunMetadata(), "meta")
        writer.close()
    acc = accumulator.EventAccumulator(str(tmp_path), size_guidance={"histograms": 0})
    acc.Reload()
    tags = acc.Tags()
    assert tags["scalars"] == ["loss"] and tags["histograms"] == ["values"]
    assert tags["images"] == ["img/image/0"] and tags["graph"]
    assert tags["run_metadata"] == ["meta"]
    assert [(e.step, e.value) for e in acc.Scalars("loss")] == [(0, 1.5), (1, 3.0)]
    assert acc.Histograms("values")[1].histogram_value.max == 6.0
    assert len(acc.Graph().node) == len(tf.get_default_graph().get_operations())
