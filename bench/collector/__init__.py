"""Collector intake throughput against raw Kafka and a bare ASGI app."""
