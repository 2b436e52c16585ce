"""Pure rules of Townhall: no I/O, no framework, no database."""
