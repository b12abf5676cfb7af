"""Boucle actions: complaint cases and improvement plans, from degradation to proven effect."""

__version__ = "0.1.0"
