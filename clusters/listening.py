"""The TCP ports that the processes of some sessions listen on, read from /proc (Linux).

    python clusters/listening.py SID [SID ...] [--exposed]

Prints one line per listening socket, ``ADDRESS PORT PID COMMAND``, of every live process whose
session id is one of the SIDs (local_cluster.sh starts each node as its own session, so a
node's SID is the pid of its `ray start`). With ``--exposed`` it prints only the sockets that
listen on more than loopback (0.0.0.0, ::, an external address) and exits with status 1 when
there is one. Reads /proc only: no psutil, no `ss`.
"""
from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from pathlib import Path

LISTEN = "0A"  # the TCP state column of /proc/net/tcp{,6}


def _address(hex_address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """An address as /proc/net/tcp{,6} writes it: 32-bit words in host (little-endian) order."""
    raw = bytes.fromhex(hex_address)
    words = [raw[i:i + 4][::-1] for i in range(0, len(raw), 4)]
    return ipaddress.ip_address(b"".join(words))


def is_loopback(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """127.0.0.0/8, ::1, or an IPv4 loopback address mapped into IPv6 (::ffff:127.0.0.1)."""
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def listening_sockets() -> dict[int, tuple[str, int]]:
    """{socket inode: (address, port)} of every TCP socket in the LISTEN state."""
    found = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:  # no IPv6 in this kernel
            continue
        for line in lines:
            fields = line.split()
            if fields[3] != LISTEN:
                continue
            host, port = fields[1].split(":")
            address = _address(host)
            mapped = getattr(address, "ipv4_mapped", None)
            text = f"::ffff:{mapped}" if mapped is not None else str(address)
            found[int(fields[9])] = (text, int(port, 16))
    return found


def session_pids(sessions: set[int]) -> list[int]:
    """Live pids whose session id is in `sessions`."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # exited meanwhile
            continue
        fields = stat.rsplit(")", 1)[1].split()  # state ppid pgrp session ...
        if fields[0] != "Z" and int(fields[3]) in sessions:
            pids.append(int(entry.name))
    return pids


def listening(pids: list[int]) -> list[tuple[str, int, int, str]]:
    """(address, port, pid, command) for each TCP socket that one of `pids` listens on."""
    sockets = listening_sockets()
    rows = []
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
            command = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:  # exited meanwhile, or not ours to read
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inode = int(target[len("socket:["):-1])
                if inode in sockets:
                    rows.append((*sockets[inode], pid, command))
    return sorted(set(rows))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("sessions", type=int, nargs="+", help="session ids (node pids)")
    p.add_argument("--exposed", action="store_true",
                   help="only sockets not on loopback; exit 1 when there is one")
    args = p.parse_args(argv)
    rows = listening(session_pids(set(args.sessions)))
    if args.exposed:
        rows = [r for r in rows if not is_loopback(ipaddress.ip_address(r[0]))]
    for address, port, pid, command in rows:
        print(f"{address} {port} {pid} {command}")
    return 1 if args.exposed and rows else 0


if __name__ == "__main__":
    sys.exit(main())
