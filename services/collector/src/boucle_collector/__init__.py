"""Boucle collector: every way feedback reaches a training network."""

__version__ = "0.1.0"
