"""Boucle reporter: the evidence an auditor accepts, for a site or a whole network."""

__version__ = "0.1.0"
