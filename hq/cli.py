"""HQ's command line, `python -m hq pull` or `branchline hq pull`: runs on a server without the box's software."""
from __future__ import annotations

import argparse
import logging


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """HQ's sub-commands on an argparse sub-parser set: `python -m hq` and `branchline hq` share them."""
    pull = sub.add_parser("pull", help="pull records and recordings from every box in the configuration")
    pull.add_argument("--config", required=True, help="the collector's TOML file (README: HQ collector)")
    pull.add_argument("--once", action="store_true", help="one round with every box, then exit (1 if any failed)")
    pull.set_defaults(fn=run_pull)


def run_pull(args: argparse.Namespace) -> int:
    # Imported once the arguments are good: `--help` needs no HTTP client or database driver.
    from hq.collector import pull

    return pull(args.config, once=args.once)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m hq", description="Branchline HQ: pull every branch box's records")
    add_commands(p.add_subparsers(dest="cmd", required=True))
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return args.fn(args)
