"""``python -m sim``: the same command line as the ``overdue`` console script."""

from sim.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
