"""Benchmarks of Boucle (run with ``python -m bench.<service>.<name>``)."""
