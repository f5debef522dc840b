"""`studio`: the command-line face of the library.

Each sub-command lives in `studio/commands/<name>.py` and exposes `NAME`, `HELP`,
`add_arguments(parser)` and `run(args) -> int`. Command modules import heavy libraries (torch,
gradio) inside `run`, so `studio --help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

import studio
import studio.commands
from gaitdata.errors import GaitDataError


def _command_modules():
    for info in sorted(pkgutil.iter_modules(studio.commands.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            yield importlib.import_module(f"studio.commands.{info.name}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="studio",
        description="Gait Studio: generate, edit and anonymize gait silhouette sequences.",
    )
    parser.add_argument("--version", action="version", version=f"gait-studio {studio.__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(message)s")
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except (GaitDataError, ValueError, FileNotFoundError) as err:
        # Input problems are the user's to fix: one clear line, no traceback.
        print(f"studio {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"studio {args.command}: interrupted; finished work is kept, run again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
