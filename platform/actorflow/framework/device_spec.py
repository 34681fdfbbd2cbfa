"""Device names: `/job:J/replica:R/task:T/device:TYPE:N`, `/cpu:0`, `/gpu:1` and merging.

Nested `device()` scopes merge field by field (inner fields win), as in TF 1.x.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DeviceSpec", "merge_device", "canonical_device"]


@dataclass(frozen=True)
class DeviceSpec:
    """A (partial) device name; unset fields are None."""

    job: str | None = None
    replica: int | None = None
    task: int | None = None
    device_type: str | None = None
    device_index: int | None = None

    @classmethod
    def from_string(cls, spec: str) -> "DeviceSpec":
        """Parses a device string; ValueError naming the bad part."""
        fields: dict = {}
        for part in (spec or "").split("/"):
            if not part:
                continue
            key, _, rest = part.partition(":")
            low = key.lower()
            try:
                if low == "job":
                    fields["job"] = rest
                elif low == "replica":
                    fields["replica"] = int(rest)
                elif low == "task":
                    fields["task"] = int(rest)
                elif low == "device":
                    dtype, _, idx = rest.partition(":")
                    fields["device_type"] = dtype.upper()
                    fields["device_index"] = None if idx in ("", "*") else int(idx)
                elif low in ("cpu", "gpu"):
                    fields["device_type"] = low.upper()
                    fields["device_index"] = None if rest in ("", "*") else int(rest)
                else:
                    raise ValueError
            except ValueError:
                raise ValueError(f"Unknown attribute: {part!r} in device specification "
                                 f"{spec!r}") from None
        return cls(**fields)

    def merge_from(self, other: "DeviceSpec") -> "DeviceSpec":
        """Fields of `other` that are set override this spec's."""
        return DeviceSpec(*(o if o is not None else s for s, o in zip(
            (self.job, self.replica, self.task, self.device_type, self.device_index),
            (other.job, other.replica, other.task, other.device_type, other.device_index))))

    def to_string(self) -> str:
        out = ""
        if self.job is not None:
            out += f"/job:{self.job}"
        if self.replica is not None:
            out += f"/replica:{self.replica}"
        if self.task is not None:
            out += f"/task:{self.task}"
        if self.device_type is not None:
            idx = "*" if self.device_index is None else self.device_index
            out += f"/device:{self.device_type}:{idx}"
        return out

    def __str__(self) -> str:
        return self.to_string()


def merge_device(outer: str, inner: str) -> str:
    """The device string of `inner` nested inside `outer`."""
    if not inner:
        return outer
    if not outer:
        return DeviceSpec.from_string(inner).to_string()
    return DeviceSpec.from_string(outer).merge_from(DeviceSpec.from_string(inner)).to_string()


def canonical_device(spec: str) -> str:
    return DeviceSpec.from_string(spec).to_string()
