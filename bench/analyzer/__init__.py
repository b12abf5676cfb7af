"""Benchmarks of the analyzer."""
