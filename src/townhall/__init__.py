"""Townhall: a self-hostable live social-audio platform."""

__version__ = "0.1.0"
