"""Boucle analyzer: from thousands of responses to the few signals worth acting on."""

__version__ = "0.1.0"
