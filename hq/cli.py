"""HQ's command line: `python -m hq pull`, the same as `branchline hq pull` on a server without the box's software."""
from __future__ import annotations

import argparse
import logging


def add_pull_arguments(p: argparse.ArgumentParser) -> None:
    """The `pull` sub-command's arguments, shared with `branchline hq pull`."""
    p.add_argument("--config", required=True, help="the collector's TOML file (README: HQ collector)")
    p.add_argument("--once", action="store_true", help="one round with every box, then exit (1 if any failed)")


def pull(args: argparse.Namespace) -> int:
    # Imported here: `--help` needs no HTTP client or database driver.
    from hq.collector import pull as run

    return run(args.config, once=args.once)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m hq", description="Branchline HQ: pull every branch box's records")
    sub = p.add_subparsers(dest="cmd", required=True)
    add_pull_arguments(sub.add_parser("pull", help="pull records and recordings from every box in the configuration"))
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return pull(args)
