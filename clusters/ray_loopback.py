"""`ray start` for a node that listens on loopback only (used by clusters/local_cluster.sh).

    python clusters/ray_loopback.py start --node-ip-address 127.0.0.1 [other `ray start` flags]

Ray 2.60 binds every server of a node (GCS, raylet node manager and object manager, core
worker ports, dashboard agent, runtime-env agent, metrics exporters, Ray client server) to
loopback when the node's address is a loopback one, and to all interfaces otherwise. But
`ray start` rewrites ``--node-ip-address 127.0.0.1`` and ``--address 127.0.0.1:P`` to the
machine's external address (``ray._private.services.resolve_ip_for_localhost``) unless
``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``, and with that variable set a worker node refuses to
start ("Multi-node Ray clusters are not supported on Windows and OSX").

So this wrapper, in this process only, makes Ray take this machine's address to be loopback,
and sets ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` for the processes the node starts (raylet,
agents, workers, the drivers of submitted jobs), so that they too resolve 127.0.0.1 to
itself. Drivers started elsewhere need that variable as well (actorflow's ``ensure_ray`` does
the same for loopback addresses on its own).
"""
from __future__ import annotations

import os
import sys

# The variable Ray reads, once at import, to decide whether this machine's address is
# loopback; it must stay unset here until ray is imported, or a worker node refuses to start.
LOOPBACK_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


def main(argv: list[str] | None = None) -> int:
    """Run Ray's CLI with `argv` (default: this process's arguments) on a loopback node."""
    from ray._common.network_utils import get_localhost_ip
    from ray._private import services
    from ray.scripts.scripts import cli

    def loopback_node_ip(address: str | None = None) -> str:
        """This node's address: loopback, whatever `address` it is seen from."""
        return get_localhost_ip()

    # resolve_ip_for_localhost and the head's own lookups call this module attribute.
    services.get_node_ip_address = loopback_node_ip
    os.environ[LOOPBACK_ENV] = "0"  # for the node's processes (ray is imported by now)
    return cli.main(args=sys.argv[1:] if argv is None else argv, prog_name="ray")


if __name__ == "__main__":
    sys.exit(main())
