"""Solicitations family: the collection plan in force, and who was asked what."""
