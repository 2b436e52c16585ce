"""`python -m townhall` is the `townhall` command."""

from townhall.cli import main

raise SystemExit(main())
