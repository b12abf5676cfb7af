"""End-to-end latency: the collector's 2xx to the analyzer's degradation event."""
