"""Referential family: the names of a network's sites, programmes and people."""
