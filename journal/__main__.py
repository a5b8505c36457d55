"""``python -m journal``: the same as the ``journal`` command."""

from journal.cli.main import main

raise SystemExit(main())
