"""The command line: a small package of commands, each a short function over a run session.

``kvp-dash [options]`` (the ``run`` command: the live dashboard, or
``--headless``), ``check``, ``infer``, ``replay``, ``attach``, ``serve``, ``sweep``, ``compare``, ``doctor``, ``join``, ``make-images`` and ``pipelines``, as
argparse subparsers. Bad input (``workloads.errors.InputError``) gets one line on
stderr and exit code 2, before any runner starts; anything else is a bug and
keeps its traceback. Textual and the launcher are imported only once the input
is valid, so ``--help`` and ``--list`` answer instantly; no framework is ever
imported here.
"""

from __future__ import annotations

import sys

from tui.cli import check, compare, doctor, infer, join, make_images, pipelines, replay, run, serve, sweep
from tui.cli.options import Parser
from workloads.errors import InputError

COMMANDS = (run, check, infer, replay, serve, sweep, compare, doctor, join, make_images, pipelines)


def build_parser() -> tuple[Parser, set[str]]:
    """The parser, and the names of its commands."""
    parser = Parser(prog="kvp-dash")
    commands = parser.add_subparsers(dest="command", parser_class=Parser)
    for command in COMMANDS:
        command.register(commands)
    return parser, set(commands.choices)


def unknown_command(word: str, names: set[str]) -> str:
    """One line for a word that is no command: the nearest command when there is one (``chek`` → ``check``)."""
    import difflib

    commands = sorted(names - {"run"})
    near = difflib.get_close_matches(word, commands, n=1, cutoff=0.6)
    hint = f"did you mean 'kvp-dash {near[0]}'?" if near else f"commands: {', '.join(commands)}; options start with --"
    return f"unknown command {word!r} ({hint})"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser, names = build_parser()
    if argv and not argv[0].startswith("-") and argv[0] not in names:
        print(f"kvp-dash: error: {unknown_command(argv[0], names)}", file=sys.stderr)
        return 2
    if not argv or argv[0] not in names:
        argv = ["run", *argv]  # no command named: train (kvp-dash --workload resnet18)
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except InputError as exc:
        print(f"kvp-dash: error: {exc}", file=sys.stderr)
        return 2
