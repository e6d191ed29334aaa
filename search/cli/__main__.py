"""``python -m search.cli``: the ``basin`` command."""

from search.cli.main import main

raise SystemExit(main())
