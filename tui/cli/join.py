"""``kvp-dash join HOST:PORT --token T``: lend this host's devices to a run whose dashboard is elsewhere."""

from __future__ import annotations

import argparse
from pathlib import Path

from tui.cli.options import command


def register(commands) -> None:
    parser = command(
        commands, "join",
        "Join a run started with `kvp-dash --hosts N --listen ADDR:PORT` on another host: this host starts its "
        "processes of every runner (torchrun's static rendezvous at node 0; jax.distributed's coordinator there) "
        "and streams their events back to the dashboard. The dashboard prints this command, token included.",
        join,
    )
    parser.add_argument("address", metavar="HOST:PORT", help="the dashboard's --listen address")
    parser.add_argument("--token", required=True, help="the run's token, as the dashboard printed it")
    parser.add_argument("--address", dest="node_address", metavar="ADDR",
                        help="the address the other hosts reach this one's ranks at (default: the one this host "
                        "reaches the dashboard from)")
    parser.add_argument("--output", type=Path, default=Path("runs"), metavar="DIR",
                        help="where this host's runner logs go (default: ./runs)")


def join(args: argparse.Namespace) -> int:
    from runners.session.hosts.join import join as join_run

    return join_run(args.address, args.token, args.node_address, args.output)
