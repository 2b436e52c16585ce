"""Use cases: load, apply the domain rules, save, publish after commit."""
