"""Free TCP ports for a Ray cluster sharing one machine with other Ray instances.

    python clusters/free_ports.py SINGLE [--ranges N --range-size K]

Prints SINGLE distinct free ports on the first line and, with --ranges, the first port of N
disjoint runs of K consecutive free ports on the second line (space-separated). A port counts
as free when it can be bound on all interfaces right now; the caller should use it at once.

Ray's fixed defaults (GCS 6379, dashboard 8265, client server 10001, worker ports
10002-19999, dashboard agent 52365) are never handed out, so that a `ray.init()` started
later by someone else on the machine does not find its default port taken by this cluster.
Single ports come from the kernel's ephemeral range; runs are drawn below it (20000-32767).
"""
from __future__ import annotations

import argparse
import random
import socket
import sys

RAY_DEFAULT_PORTS = frozenset({6379, 8265, 10001, 52365, 52366})
RAY_DEFAULT_WORKER_PORTS = range(10002, 20000)
RUN_LOW, RUN_HIGH = 20000, 32767


def _bindable(port: int) -> bool:
    """Whether `port` can be bound on all interfaces (TCP) right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("", port))
        except OSError:
            return False
    return True


def single_ports(count: int) -> list[int]:
    """`count` distinct ports the kernel hands out as free, avoiding Ray's defaults."""
    held: list[socket.socket] = []
    ports: list[int] = []
    try:
        while len(ports) < count:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("", 0))
            held.append(s)  # keep it bound so the kernel cannot hand it out twice
            port = s.getsockname()[1]
            if port not in RAY_DEFAULT_PORTS and port not in RAY_DEFAULT_WORKER_PORTS:
                ports.append(port)
    finally:
        for s in held:
            s.close()
    return ports


def port_runs(count: int, size: int, avoid: set[int], rng: random.Random,
              tries: int = 200) -> list[int]:
    """First ports of `count` disjoint runs of `size` consecutive bindable ports.

    Raises:
        RuntimeError: no such runs found in `tries` random draws.
    """
    starts: list[int] = []
    taken = set(avoid)
    for _ in range(tries):
        if len(starts) == count:
            return starts
        base = rng.randrange(RUN_LOW, RUN_HIGH - size)
        run = range(base, base + size)
        if any(p in taken for p in run) or not all(_bindable(p) for p in run):
            continue
        starts.append(base)
        taken.update(run)
    if len(starts) == count:
        return starts
    raise RuntimeError(f"found only {len(starts)} of {count} runs of {size} free ports "
                       f"in {RUN_LOW}-{RUN_HIGH}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("single", type=int, help="how many single free ports to print")
    p.add_argument("--ranges", type=int, default=0, help="how many runs of ports")
    p.add_argument("--range-size", type=int, default=100, help="ports per run")
    args = p.parse_args(argv)
    if args.single < 0 or args.ranges < 0 or args.range_size <= 0:
        p.error("counts must be >= 0 and --range-size > 0")
    singles = single_ports(args.single)
    print(" ".join(map(str, singles)))
    if args.ranges:
        try:
            runs = port_runs(args.ranges, args.range_size, set(singles), random.Random())
        except RuntimeError as e:
            print(f"free_ports: {e}", file=sys.stderr)
            return 1
        print(" ".join(map(str, runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
