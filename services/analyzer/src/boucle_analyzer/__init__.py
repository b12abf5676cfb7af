"""Boucle analyzer: from thousands of responses to the few degradations worth acting on."""

__version__ = "0.1.0"
