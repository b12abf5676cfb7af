"""Boucle actions: complaint cases and improvement plans, from signal to proven effect."""

__version__ = "0.1.0"
