"""``python -m crossgrad``: the same command as ``crossgrad``."""

from crossgrad.client.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
