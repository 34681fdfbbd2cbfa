"""TF 1.x run-time error types (`tf.errors.*`), all subclassing `OpError`.

Graph-construction mistakes raise `ValueError` / `TypeError`, as TF 1.x does; these types
are raised while a session runs (or imports, restores, ...), and name the op involved.
"""
from __future__ import annotations

__all__ = [
    "OpError", "CancelledError", "UnknownError", "InvalidArgumentError",
    "DeadlineExceededError", "NotFoundError", "AlreadyExistsError", "PermissionDeniedError",
    "ResourceExhaustedError", "FailedPreconditionError", "AbortedError", "OutOfRangeError",
    "UnimplementedError", "InternalError", "UnavailableError", "DataLossError",
    "UnauthenticatedError",
]


class OpError(Exception):
    """A failure while running (or loading) a graph; `.op` is the op involved, if any."""

    error_code = 2

    def __init__(self, node_def=None, op=None, message: str = "", error_code=None) -> None:
        super().__init__(message)
        self.node_def = node_def
        self.op = op
        self.message = message
        if error_code is not None:
            self.error_code = error_code

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):
        # Errors cross process boundaries (Ray actors): keep the type and message; the op
        # belongs to the other process's graph (its name is in the message). Rebuilt without
        # calling the subclass's __init__, whatever its signature.
        return _rebuild_error, (type(self), self.message)


def _rebuild_error(cls, message: str) -> OpError:
    err = cls.__new__(cls)
    OpError.__init__(err, None, None, message)
    return err


def _make(name: str, code: int, doc: str) -> type:
    cls = type(name, (OpError,), {"error_code": code, "__doc__": doc})

    def __init__(self, node_def=None, op=None, message: str = "", *args) -> None:
        OpError.__init__(self, node_def, op, message)

    cls.__init__ = __init__
    return cls


CancelledError = _make("CancelledError", 1, "An operation was cancelled.")
UnknownError = _make("UnknownError", 2, "An unknown error.")
InvalidArgumentError = _make("InvalidArgumentError", 3, "An op received a bad argument.")
DeadlineExceededError = _make("DeadlineExceededError", 4, "A deadline expired.")
NotFoundError = _make("NotFoundError", 5, "A requested entity was not found.")
AlreadyExistsError = _make("AlreadyExistsError", 6, "An entity already exists.")
PermissionDeniedError = _make("PermissionDeniedError", 7, "Permission denied.")
ResourceExhaustedError = _make("ResourceExhaustedError", 8, "A resource is exhausted.")
FailedPreconditionError = _make(
    "FailedPreconditionError", 9, "The system is not in a state to run the op "
    "(e.g. a variable read before it was initialised).")
AbortedError = _make("AbortedError", 10, "An operation was aborted.")
OutOfRangeError = _make("OutOfRangeError", 11, "Iteration past a valid range.")
UnimplementedError = _make("UnimplementedError", 12, "Not implemented.")
InternalError = _make("InternalError", 13, "An internal invariant broke.")
UnavailableError = _make("UnavailableError", 14, "A service is unavailable.")
DataLossError = _make("DataLossError", 15, "Unrecoverable data loss or corruption.")
UnauthenticatedError = _make("UnauthenticatedError", 16, "Bad credentials.")
