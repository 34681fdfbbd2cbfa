"""tf.app.flags / tf.flags, tf.app.run and tf.gfile."""
from __future__ import annotations

import os
import sys

import pytest

import actorflow as tf
from actorflow.app import FlagValues


# -- flags -----------------------------------------------------------------------------------
@pytest.fixture
def fv():
    """A fresh flag registry with one flag of each kind."""
    f = FlagValues()
    flags = tf.app.flags
    flags.DEFINE_string("name", "model", "the model name", flag_values=f)
    flags.DEFINE_integer("steps", 10, "training steps", lower_bound=0, flag_values=f)
    flags.DEFINE_float("lr", 0.1, "learning rate", flag_values=f)
    flags.DEFINE_boolean("train", True, "train or eval", flag_values=f)
    flags.DEFINE_bool("debug", False, "debug mode", flag_values=f)
    flags.DEFINE_list("layers", "64,32", "layer sizes", flag_values=f)
    flags.DEFINE_enum("opt", "adam", ["adam", "sgd"], "optimizer", flag_values=f)
    return f


def test_flag_defaults(fv):
    fv(["prog"])
    assert (fv.name, fv.steps, fv.lr, fv.train, fv.debug, fv.layers, fv.opt) == \
        ("model", 10, 0.1, True, False, ["64", "32"], "adam")
    assert fv.flag_values_dict()["steps"] == 10 and "lr" in fv and "nope" not in fv


def test_flag_forms_and_leftovers(fv):
    rest = fv(["prog", "--name=cnn", "--steps", "5", "-lr=0.5", "--notrain", "--debug",
               "--layers=1,2,3", "--opt", "sgd", "input.txt", "--unknown=3", "--other", "x"])
    assert (fv.name, fv.steps, fv.lr, fv.train, fv.debug, fv.layers, fv.opt) == \
        ("cnn", 5, 0.5, False, True, ["1", "2", "3"], "sgd")
    assert rest == ["prog", "input.txt", "--unknown=3", "--other", "x"]


def test_boolean_values(fv):
    fv(["prog", "--train=false", "--debug=True"])
    assert fv.train is False and fv.debug is True
    fv(["prog", "--train", "positional"])  # a boolean never takes the next argument
    assert fv.train is True


def test_double_dash_ends_flags(fv):
    assert fv(["prog", "--steps=3", "--", "--steps=4"]) == ["prog", "--steps=4"]
    assert fv.steps == 3


@pytest.mark.parametrize("argv,flag", [
    (["--steps=abc"], "--steps"), (["--steps=-1"], "--steps"), (["--lr=fast"], "--lr"),
    (["--opt=rmsprop"], "--opt"), (["--train=maybe"], "--train"), (["--steps"], "steps"),
])
def test_bad_values_name_the_flag(fv, argv, flag):
    with pytest.raises(tf.app.flags.IllegalFlagValueError, match=flag):
        fv(["prog"] + argv)


def test_unknown_flags_with_known_only_false(fv):
    with pytest.raises(tf.app.flags.UnrecognizedFlagError, match="--bogus"):
        fv(["prog", "--bogus"], known_only=False)


def test_set_duplicate_and_unknown(fv):
    fv(["prog"])
    fv.steps = "7"
    assert fv.steps == 7
    with pytest.raises(tf.app.flags.IllegalFlagValueError):
        fv.steps = "x"
    with pytest.raises(tf.app.flags.DuplicateFlagError, match="steps"):
        tf.app.flags.DEFINE_integer("steps", 1, "again", flag_values=fv)
    with pytest.raises(AttributeError, match="nope"):
        fv.nope  # noqa: B018


def test_lazy_parse_from_sys_argv(fv, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["prog", "--steps=42", "extra"])
    assert not fv.is_parsed()
    assert fv.steps == 42 and fv.is_parsed()


def test_flag_defined_after_parsing_reads_the_command_line(fv):
    fv(["prog", "--late=9", "--steps=2"])
    tf.app.flags.DEFINE_integer("late", 1, "defined late", flag_values=fv)
    assert fv.late == 9 and fv.steps == 2


def test_required_flag(fv):
    tf.app.flags.DEFINE_string("data_dir", None, "where the data is", flag_values=fv)
    tf.app.flags.mark_flag_as_required("data_dir", flag_values=fv)
    with pytest.raises(tf.app.flags.Error, match="data_dir"):
        fv(["prog"])
    fv(["prog", "--data_dir", "/tmp"])
    assert fv.data_dir == "/tmp"


def test_global_flags_and_app_run(monkeypatch):
    assert tf.flags is tf.app.flags and tf.flags.FLAGS is tf.app.flags.FLAGS
    flags = tf.flags
    flags.DEFINE_integer("test_app_gfile_batch", 8, "batch size")
    try:
        seen = []

        def main(argv):
            seen.append((argv, flags.FLAGS.test_app_gfile_batch))
            return 3

        with pytest.raises(SystemExit) as e:
            tf.app.run(main, argv=["prog", "--test_app_gfile_batch=16", "file"])
        assert e.value.code == 3 and seen == [(["prog", "file"], 16)]
    finally:
        delattr(flags.FLAGS, "test_app_gfile_batch")


def test_app_run_bad_flag_and_help(capsys):
    flags = tf.flags
    flags.DEFINE_integer("test_app_gfile_n", 1, "a number for the test")
    try:
        with pytest.raises(SystemExit) as e:
            tf.app.run(lambda argv: 0, argv=["prog", "--test_app_gfile_n=x"])
        assert e.value.code == 1
        assert "--test_app_gfile_n" in capsys.readouterr().err
        with pytest.raises(SystemExit) as e:
            tf.app.run(lambda argv: 0, argv=["prog", "--help"])
        assert e.value.code == 0
        assert "a number for the test" in capsys.readouterr().out
    finally:
        delattr(flags.FLAGS, "test_app_gfile_n")


# -- gfile -----------------------------------------------------------------------------------
def test_gfile_text_and_binary(tmp_path):
    p = str(tmp_path / "a.txt")
    with tf.gfile.GFile(p, "w") as f:
        f.write("line1\n")
        f.write(b"line2\r\nend")
    with tf.gfile.Open(p) as f:
        assert f.readline() == "line1\n"
        assert f.readlines() == ["line2\r\n", "end"]
    with tf.gfile.GFile(p) as f:
        assert list(f) == ["line1\n", "line2\r\n", "end"]
    with tf.gfile.FastGFile(p, "rb") as f:
        assert f.read(5) == b"line1"
        assert f.tell() == 5
        f.seek(0)
        assert f.read() == b"line1\nline2\r\nend"
        assert f.size() == 16
    with tf.gfile.GFile(p, "ab") as f:
        f.write("!")
    assert open(p, "rb").read().endswith(b"end!")


def test_gfile_errors(tmp_path):
    missing = str(tmp_path / "missing.txt")
    with pytest.raises(tf.errors.NotFoundError, match="missing.txt"):
        tf.gfile.GFile(missing).read()
    with pytest.raises(tf.errors.NotFoundError, match="missing.txt"):
        tf.gfile.Remove(missing)
    with pytest.raises(tf.errors.NotFoundError):
        tf.gfile.Stat(missing)
    with pytest.raises(tf.errors.NotFoundError):
        tf.gfile.ListDirectory(missing)
    with pytest.raises(tf.errors.NotFoundError):
        tf.gfile.DeleteRecursively(missing)
    with pytest.raises(tf.errors.NotFoundError):
        tf.gfile.Mkdir(str(tmp_path / "no" / "parent"))
    with pytest.raises(tf.errors.FailedPreconditionError):
        tf.gfile.GFile(str(tmp_path)).read()


def test_gfile_directories(tmp_path):
    root = str(tmp_path / "r")
    tf.gfile.MakeDirs(os.path.join(root, "a", "b"))
    tf.gfile.MakeDirs(os.path.join(root, "a", "b"))  # existing: fine
    tf.gfile.Mkdir(os.path.join(root, "c"))
    with pytest.raises(tf.errors.AlreadyExistsError, match="c"):
        tf.gfile.Mkdir(os.path.join(root, "c"))
    for name in ("x.txt", os.path.join("a", "y.txt"), os.path.join("a", "b", "z.log")):
        with tf.gfile.GFile(os.path.join(root, name), "w") as f:
            f.write("data")
    assert tf.gfile.Exists(root) and tf.gfile.IsDirectory(root)
    assert not tf.gfile.IsDirectory(os.path.join(root, "x.txt"))
    assert tf.gfile.ListDirectory(root) == ["a", "c", "x.txt"]
    assert tf.gfile.Glob(os.path.join(root, "*.txt")) == [os.path.join(root, "x.txt")]
    assert tf.gfile.Glob([os.path.join(root, "a", "*"), os.path.join(root, "*.txt")]) == \
        sorted([os.path.join(root, "a", "b"), os.path.join(root, "a", "y.txt"),
                os.path.join(root, "x.txt")])
    walked = list(tf.gfile.Walk(root))
    assert walked[0] == (root, ["a", "c"], ["x.txt"])
    assert (os.path.join(root, "a", "b"), [], ["z.log"]) in walked and len(walked) == 4
    assert list(tf.gfile.Walk(root, in_order=False))[-1][0] == root
    assert list(tf.gfile.Walk(os.path.join(root, "none"))) == []
    st = tf.gfile.Stat(os.path.join(root, "x.txt"))
    assert st.length == 4 and not st.is_directory and st.mtime_nsec > 0
    assert tf.gfile.Stat(root).is_directory
    tf.gfile.DeleteRecursively(os.path.join(root, "a"))
    assert not tf.gfile.Exists(os.path.join(root, "a"))


def test_gfile_rename_copy_remove(tmp_path):
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    with tf.gfile.GFile(a, "w") as f:
        f.write("A")
    with tf.gfile.GFile(b, "w") as f:
        f.write("B")
    with pytest.raises(tf.errors.AlreadyExistsError, match="b"):
        tf.gfile.Copy(a, b)
    tf.gfile.Copy(a, b, overwrite=True)
    assert tf.gfile.GFile(b).read() == "A"
    with pytest.raises(tf.errors.AlreadyExistsError):
        tf.gfile.Rename(a, b)
    c = str(tmp_path / "c")
    tf.gfile.Rename(a, c)
    assert not tf.gfile.Exists(a) and tf.gfile.GFile(c).read() == "A"
    tf.gfile.Rename(c, b, overwrite=True)
    with pytest.raises(tf.errors.NotFoundError, match="c"):
        tf.gfile.Copy(c, a)
    tf.gfile.Remove(b)
    assert tf.gfile.ListDirectory(str(tmp_path)) == []
