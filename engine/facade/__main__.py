"""``python -m crossgrad``: the same command as ``crossgrad``."""

from crossgrad.client.cli import main

raise SystemExit(main())
