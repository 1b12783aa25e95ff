"""`python -m hq pull --config hq.toml [--once]`: HQ's collector."""
import sys

from hq.cli import main

sys.exit(main())
