"""Boucle surveys: the collection plan, and the surveys sent, reminded and answered."""

__version__ = "0.1.0"
