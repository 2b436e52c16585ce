"""Benchmarks; each program writes its numbers to bench/results/ (see bench/README.md)."""
