"""tf.logging: levels, verbosity and the counted helpers, on the "actorflow" logger."""
import logging

import pytest

import actorflow as tf


@pytest.fixture(autouse=True)
def _restore_level():
    logger = logging.getLogger("actorflow")
    old = logger.level
    yield
    logger.setLevel(old)


def _messages(caplog):
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "actorflow"]


def test_levels_are_pythons():
    assert (tf.logging.DEBUG, tf.logging.INFO, tf.logging.WARN, tf.logging.ERROR,
            tf.logging.FATAL) == (10, 20, 30, 40, 50)
    assert tf.logging.get_logger() is logging.getLogger("actorflow")


def test_verbosity_filters_records(caplog):
    caplog.set_level(logging.DEBUG)
    tf.logging.set_verbosity(tf.logging.WARN)
    assert tf.logging.get_verbosity() == tf.logging.WARN
    tf.logging.info("hidden %d", 1)
    tf.logging.warn("shown %s", "w")
    tf.logging.set_verbosity(tf.logging.DEBUG)
    tf.logging.debug("debug %d", 2)
    tf.logging.error("error")
    tf.logging.fatal("fatal")  # logs, does not exit
    tf.logging.vlog(15, "verbose")
    tf.logging.log(tf.logging.INFO, "via log")
    tf.logging.log_if(tf.logging.INFO, "if true", True)
    tf.logging.log_if(tf.logging.INFO, "if false", False)
    tf.logging.flush()
    assert _messages(caplog) == [(30, "shown w"), (10, "debug 2"), (40, "error"),
                                 (50, "fatal"), (15, "verbose"), (20, "via log"),
                                 (20, "if true")]


def test_log_every_n_and_first_n_count_per_call_site(caplog):
    caplog.set_level(logging.INFO)
    tf.logging.set_verbosity(tf.logging.INFO)
    for i in range(7):
        tf.logging.log_every_n(tf.logging.INFO, "every %d", 3, i)
        tf.logging.log_first_n(tf.logging.INFO, "first %d", 2, i)
    tf.logging.log_first_n(tf.logging.INFO, "other site %d", 2, 0)
    assert [m for _, m in _messages(caplog)] == [
        "every 0", "first 0", "first 1", "every 3", "every 6", "other site 0"]
