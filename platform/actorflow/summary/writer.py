"""`FileWriter`: summaries, graphs and run metadata into TensorBoard event files.

An event file is named ``events.out.tfevents.<seconds>.<hostname><suffix>`` and is a TFRecord
file of `Event` protobufs; the first event carries ``file_version = "brain.Event:2"``. Events
are written at once into a buffered file; a daemon thread flushes it every `flush_secs`, and
a flush also happens after every `max_queue` events and on `flush()` / `close()`.
`summary_iterator(path)` reads the events of a file back.
"""
from __future__ import annotations

import os
import socket
import threading
import time
from typing import Iterator

from ..framework.graph import Graph, get_default_graph
from .graph_def import tf_graph_def
from .protos import (AllocatorMemoryUsed, DeviceStepStats, Event, NodeExecStats,
                     RunMetadataProto, SessionLog, StepStats, Summary, TaggedRunMetadata)
from ..io.tf_record import encode_record, tf_record_iterator
from .wire import Message, as_bytes

__all__ = ["EventFileWriter", "FileWriter", "FileWriterCache", "summary_iterator"]

FILE_VERSION = "brain.Event:2"


class EventFileWriter:
    """Appends `Event` records to a new event file in `logdir`.

    Args:
        logdir: the directory (created when missing).
        max_queue: events written between forced flushes.
        flush_secs: seconds between flushes by the background thread.
        filename_suffix: appended to the file name.
    """

    def __init__(self, logdir: str, max_queue: int = 10, flush_secs: float = 120,
                 filename_suffix: str | None = None) -> None:
        self._logdir = str(logdir)
        self._max_queue = max(1, int(max_queue))
        self._flush_secs = float(flush_secs)
        self._suffix = filename_suffix or ""
        self._lock = threading.Lock()
        self._file = None
        self._closed = True
        self.reopen()

    def get_logdir(self) -> str:
        return self._logdir

    @property
    def path(self) -> str:
        """The file this writer writes (the newest one after `reopen`)."""
        return self._path

    def _new_path(self) -> str:
        base = os.path.join(self._logdir, f"events.out.tfevents.{int(time.time()):010d}."
                                          f"{socket.gethostname()}")
        path, n = base + self._suffix, 0
        while os.path.exists(path):  # another writer this second: never clobber its file
            n += 1
            path = f"{base}.{n}{self._suffix}"
        return path

    def reopen(self) -> None:
        """Starts a new event file after `close()` (no-op while open)."""
        with self._lock:
            if not self._closed:
                return
            os.makedirs(self._logdir, exist_ok=True)
            self._path = self._new_path()
            self._file = open(self._path, "wb")
            self._pending = 0
            self._closed = False
            self._write(Event(wall_time=time.time(), step=0, file_version=FILE_VERSION))
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._flush_loop, args=(self._stop,),
                                            name="EventFileWriterFlush", daemon=True)
            self._thread.start()

    def _flush_loop(self, stop: threading.Event) -> None:
        while not stop.wait(self._flush_secs):
            self.flush()

    def _write(self, event: Event) -> None:
        self._file.write(encode_record(event.SerializeToString()))
        self._pending += 1
        if self._pending >= self._max_queue:
            self._file.flush()
            self._pending = 0

    def add_event(self, event: Event) -> None:
        """Writes `event` (ignored after `close()`, as TF 1.x does)."""
        with self._lock:
            if not self._closed:
                self._write(event)

    def flush(self) -> None:
        with self._lock:
            if not self._closed:
                self._file.flush()
                self._pending = 0

    def close(self) -> None:
        """Flushes and closes the file; `reopen()` starts a new one."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._stop.set()
            self._file.close()
        self._thread.join()


def _run_metadata_proto(run_metadata) -> RunMetadataProto:
    """The protobuf form of a `tf.RunMetadata` (its per-op step stats)."""
    stats = StepStats()
    for dev in run_metadata.step_stats.dev_stats:
        nodes = [NodeExecStats(node_name=n.node_name, all_start_micros=n.all_start_micros,
                               op_start_rel_micros=n.op_start_rel_micros,
                               op_end_rel_micros=n.op_end_rel_micros,
                               all_end_rel_micros=n.all_end_rel_micros,
                               timeline_label=n.timeline_label,
                               memory=[AllocatorMemoryUsed(allocator_name="cpu",
                                                           total_bytes=int(n.output_bytes),
                                                           peak_bytes=int(n.output_bytes))])
                 for n in dev.node_stats]
        stats.dev_stats.append(DeviceStepStats(device=dev.device, node_stats=nodes))
    return RunMetadataProto(step_stats=stats)


class FileWriter:
    """TF 1.x `tf.summary.FileWriter`: writes summaries and graphs for TensorBoard.

    Args:
        logdir: the directory of the event file.
        graph: a `Graph` to write at once (as `add_graph` does).
        max_queue, flush_secs, filename_suffix: see `EventFileWriter`.
        graph_def: deprecated TF 1.x form of `graph` (an actorflow GraphDef).
    """

    def __init__(self, logdir: str, graph=None, max_queue: int = 10, flush_secs: float = 120,
                 graph_def=None, filename_suffix: str | None = None) -> None:
        self.event_writer = EventFileWriter(logdir, max_queue, flush_secs, filename_suffix)
        self._seen_metadata_tags: set[str] = set()
        self._run_metadata_tags: set[str] = set()
        if graph is not None or graph_def is not None:
            self.add_graph(graph, graph_def=graph_def)

    def get_logdir(self) -> str:
        return self.event_writer.get_logdir()

    def _add_event(self, event: Event, step) -> None:
        event.wall_time = time.time()
        if step is not None:
            event.step = int(step)
        self.event_writer.add_event(event)

    def add_event(self, event: Event) -> None:
        """Writes a ready `Event` as it is."""
        self.event_writer.add_event(event)

    def add_summary(self, summary, global_step=None) -> None:
        """Writes a `Summary`: a fetched summary tensor value (bytes) or a `tf.Summary`.

        As TF 1.x, the plugin metadata of a tag is written only the first time it appears.

        Raises:
            TypeError: `summary` is neither serialized bytes nor a `Summary`.
        """
        if isinstance(summary, Message):
            summary = Summary.FromString(summary.SerializeToString())  # a private copy
        else:
            summary = Summary.FromString(as_bytes(summary))
        for value in summary.value:
            if value.metadata is None:
                continue
            if value.tag in self._seen_metadata_tags:
                value.metadata = None
            else:
                self._seen_metadata_tags.add(value.tag)
        self._add_event(Event(summary=summary), global_step)

    def add_session_log(self, session_log: SessionLog, global_step=None) -> None:
        self._add_event(Event(session_log=session_log), global_step)

    def add_graph(self, graph=None, global_step=None, graph_def=None) -> None:
        """Writes `graph` (or an actorflow `graph_def`) as a TensorFlow GraphDef event.

        Raises:
            ValueError: neither is given.
        """
        if graph is None and graph_def is None:
            raise ValueError("add_graph needs a graph or a graph_def")
        if graph is None or not isinstance(graph, Graph):
            graph = _graph_from_def(graph_def if graph is None else graph)
        self._add_event(Event(graph_def=tf_graph_def(graph).SerializeToString()), global_step)

    def add_run_metadata(self, run_metadata, tag: str, global_step=None) -> None:
        """Writes the step stats of `run_metadata` under `tag` (TensorBoard's graph view).

        Raises:
            ValueError: `tag` was used before by this writer.
        """
        if tag in self._run_metadata_tags:
            raise ValueError(f"The provided run_metadata tag ({tag}) has already been used "
                             "for this event type.")
        self._run_metadata_tags.add(tag)
        data = _run_metadata_proto(run_metadata).SerializeToString()
        self._add_event(Event(tagged_run_metadata=TaggedRunMetadata(tag=tag, run_metadata=data)),
                        global_step)

    def flush(self) -> None:
        self.event_writer.flush()

    def close(self) -> None:
        self.event_writer.close()

    def reopen(self) -> None:
        self.event_writer.reopen()

    def __enter__(self) -> "FileWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _graph_from_def(graph_def) -> Graph:
    """An actorflow GraphDef imported into a new Graph (to be written in TF's form)."""
    from ..framework.graph_io import GraphDef, import_graph_def
    if not isinstance(graph_def, GraphDef):
        raise TypeError(f"add_graph expects a Graph or a GraphDef, got "
                        f"{type(graph_def).__name__}")
    graph = Graph()
    with graph.as_default():
        import_graph_def(graph_def, name="", import_collections=False)
    return graph


class FileWriterCache:
    """One shared `FileWriter` per log directory (TF 1.x `tf.summary.FileWriterCache`)."""

    _cache: dict[str, FileWriter] = {}
    _lock = threading.Lock()

    @staticmethod
    def get(logdir: str) -> FileWriter:
        with FileWriterCache._lock:
            key = str(logdir)
            if key not in FileWriterCache._cache:
                FileWriterCache._cache[key] = FileWriter(key, graph=get_default_graph())
            return FileWriterCache._cache[key]

    @staticmethod
    def clear() -> None:
        """Closes and forgets every cached writer."""
        with FileWriterCache._lock:
            for w in FileWriterCache._cache.values():
                w.close()
            FileWriterCache._cache.clear()


def summary_iterator(path: str) -> Iterator[Event]:
    """Yields the `Event`s of event file `path` (TF 1.x `tf.train.summary_iterator`)."""
    for record in tf_record_iterator(path):
        yield Event.FromString(record)
