"""TF 1.x `tf.logging` over Python's `logging`, on the logger named "actorflow".

Levels are Python's (DEBUG 10, INFO 20, WARN 30, ERROR 40, FATAL 50). As TF 1.x does, the
logger gets a stderr handler of its own on first use unless the root logger already has
handlers (records also propagate to the root logger); `fatal` only logs, it does not exit.
`log_every_n` / `log_first_n` count per calling line.
"""
from __future__ import annotations

import logging as _logging
import sys as _sys
import threading as _threading

__all__ = ["DEBUG", "INFO", "WARN", "ERROR", "FATAL", "get_logger", "log", "debug", "info",
           "warn", "warning", "error", "fatal", "vlog", "log_if", "log_every_n",
           "log_first_n", "flush", "get_verbosity", "set_verbosity"]

DEBUG = _logging.DEBUG
INFO = _logging.INFO
WARN = _logging.WARN
ERROR = _logging.ERROR
FATAL = _logging.FATAL

_logger: _logging.Logger | None = None
_lock = _threading.Lock()
_counts: dict[tuple[str, int], int] = {}


def get_logger() -> _logging.Logger:
    """The "actorflow" logger, with a stderr handler unless logging is already configured."""
    global _logger
    if _logger is not None:
        return _logger
    with _lock:
        if _logger is None:
            logger = _logging.getLogger("actorflow")
            if not _logging.getLogger().handlers and not logger.handlers:
                handler = _logging.StreamHandler(_sys.stderr)
                handler.setFormatter(_logging.Formatter(_logging.BASIC_FORMAT))
                logger.addHandler(handler)
            _logger = logger
    return _logger


def log(level: int, msg, *args, **kwargs) -> None:
    get_logger().log(level, msg, *args, **kwargs)


def debug(msg, *args, **kwargs) -> None:
    get_logger().debug(msg, *args, **kwargs)


def info(msg, *args, **kwargs) -> None:
    get_logger().info(msg, *args, **kwargs)


def warning(msg, *args, **kwargs) -> None:
    get_logger().warning(msg, *args, **kwargs)


warn = warning


def error(msg, *args, **kwargs) -> None:
    get_logger().error(msg, *args, **kwargs)


def fatal(msg, *args, **kwargs) -> None:
    """Logs at FATAL (does not exit, as TF 1.x's `tf.logging.fatal`)."""
    get_logger().fatal(msg, *args, **kwargs)


def vlog(level: int, msg, *args, **kwargs) -> None:
    """Logs at the numeric `level` (TF's verbose log)."""
    get_logger().log(level, msg, *args, **kwargs)


def log_if(level: int, msg, condition, *args) -> None:
    """Logs when `condition` is true."""
    if condition:
        get_logger().log(level, msg, *args)


def _call_site() -> tuple[str, int]:
    frame = _sys._getframe(2)  # the caller of log_every_n / log_first_n
    return frame.f_code.co_filename, frame.f_lineno


def _next_count(site: tuple[str, int]) -> int:
    with _lock:
        n = _counts.get(site, 0)
        _counts[site] = n + 1
    return n


def log_every_n(level: int, msg, n: int, *args) -> None:
    """Logs on the 1st, (n+1)th, (2n+1)th, ... call from the same line."""
    count = _next_count(_call_site())
    log_if(level, msg, count % max(1, int(n)) == 0, *args)


def log_first_n(level: int, msg, n: int, *args) -> None:
    """Logs only the first `n` calls from the same line."""
    count = _next_count(_call_site())
    log_if(level, msg, count < n, *args)


def flush() -> None:
    """Flushes the logger's handlers."""
    for handler in get_logger().handlers:
        handler.flush()


def get_verbosity() -> int:
    """The effective threshold of the "actorflow" logger."""
    return get_logger().getEffectiveLevel()


def set_verbosity(v: int) -> None:
    """Logs records of level `v` and above from now on."""
    get_logger().setLevel(v)
