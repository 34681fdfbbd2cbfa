"""Session configuration and tracing records: ConfigProto, GPUOptions, RunOptions, RunMetadata.

Plain classes with TF 1.x's field names; unknown keyword arguments are a TypeError naming them.
"""
from __future__ import annotations

__all__ = ["ConfigProto", "GPUOptions", "GraphOptions", "OptimizerOptions", "RunOptions",
           "RunMetadata", "StepStats", "DeviceStepStats", "NodeExecStats"]


class _Proto:
    _fields: dict = {}

    def __init__(self, **kwargs) -> None:
        for k, v in self._fields.items():
            setattr(self, k, v() if callable(v) else v)
        for k, v in kwargs.items():
            if k not in self._fields:
                raise TypeError(f"{type(self).__name__} got an unknown field {k!r}; known: "
                                f"{', '.join(sorted(self._fields))}")
            setattr(self, k, v)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._fields)
        return f"{type(self).__name__}({inner})"


class GPUOptions(_Proto):
    """GPU memory options (honoured by the CUDA executor)."""

    _fields = {"allow_growth": False, "per_process_gpu_memory_fraction": 0.0,
               "visible_device_list": ""}


class OptimizerOptions(_Proto):
    _fields = {"do_common_subexpression_elimination": True, "do_constant_folding": True,
               "opt_level": 0, "global_jit_level": 0}


class GraphOptions(_Proto):
    _fields = {"optimizer_options": OptimizerOptions, "build_cost_model": 0,
               "infer_shapes": False, "place_pruned_graph": False}


class ConfigProto(_Proto):
    """Session configuration (TF 1.x `tf.ConfigProto`).

    ``intra_op_parallelism_threads``: the threads of the BLAS library under the NumPy
    kernels, set for this process whenever this session runs (`session/threads.py`); 0 means
    ``OPENBLAS_NUM_THREADS``, else ``OMP_NUM_THREADS`` (Ray's CPU share in a worker), else 1
    — one thread holds up on a busy machine, where multithreaded BLAS stalls. Never more
    than the CPUs the process may run on.

    ``inter_op_parallelism_threads`` is accepted and does not bound anything: every device
    partition of a run has its own thread, since fewer threads than partitions could
    deadlock on the Send/Recv edges between them.
    """

    _fields = {"device_count": dict, "intra_op_parallelism_threads": 0,
               "inter_op_parallelism_threads": 0, "use_per_session_threads": False,
               "allow_soft_placement": False, "log_device_placement": False,
               "gpu_options": GPUOptions, "graph_options": GraphOptions,
               "operation_timeout_in_ms": 0}


class RunOptions(_Proto):
    """Per-run options; `trace_level=RunOptions.FULL_TRACE` fills a RunMetadata."""

    NO_TRACE = 0
    SOFTWARE_TRACE = 1
    HARDWARE_TRACE = 2
    FULL_TRACE = 3
    _fields = {"trace_level": 0, "timeout_in_ms": 0, "output_partition_graphs": False}


class NodeExecStats:
    """One op's execution record: name, type, start and duration (µs) and output bytes."""

    def __init__(self, node_name, op_type, all_start_micros, op_start_rel_micros,
                 op_end_rel_micros, all_end_rel_micros, output_bytes, timeline_label=""):
        self.node_name = node_name
        self.op_type = op_type
        self.all_start_micros = all_start_micros
        self.op_start_rel_micros = op_start_rel_micros
        self.op_end_rel_micros = op_end_rel_micros
        self.all_end_rel_micros = all_end_rel_micros
        self.output_bytes = output_bytes
        self.timeline_label = timeline_label or f"{node_name} = {op_type}()"


class DeviceStepStats:
    def __init__(self, device: str) -> None:
        self.device = device
        self.node_stats: list[NodeExecStats] = []


class StepStats:
    def __init__(self) -> None:
        self.dev_stats: list[DeviceStepStats] = []


class RunMetadata:
    """Filled by `Session.run` under FULL_TRACE: `step_stats.dev_stats[i].node_stats`."""

    def __init__(self) -> None:
        self.step_stats = StepStats()
        self.partition_graphs: list = []
        self.cost_graph = None

    def _reset(self) -> None:
        self.step_stats = StepStats()
        self.partition_graphs = []

    def _record(self, ops, records, t_start_wall: float,
                device: str = "/job:localhost/replica:0/task:0/device:CPU:0") -> None:
        """Appends one device's per-op records ((index in `ops`, start, end, bytes))."""
        dev = DeviceStepStats(device)
        if records:
            base_perf = records[0][1]
            base_us = int(t_start_wall * 1e6)
            for idx, t0, t1, nbytes in records:
                op = ops[idx]
                start = base_us + int((t0 - base_perf) * 1e6)
                dur = max(0, int(round((t1 - t0) * 1e6)))
                dev.node_stats.append(NodeExecStats(op.name, op.type, start, 0, dur, dur,
                                                    nbytes))
        self.step_stats.dev_stats.append(dev)

    def total_op_time_micros(self) -> int:
        return sum(n.op_end_rel_micros for d in self.step_stats.dev_stats for n in d.node_stats)
