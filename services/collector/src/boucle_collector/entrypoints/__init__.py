"""The collector's HTTP entry points, one module per family of routes.

``native`` (one fact per request) and ``bulk`` (NDJSON) are generated from one route table;
``webhooks`` receives survey platforms' deliveries, ``imports`` CSV/XLSX exports and
``mappings`` manages form mappings. What they share: ``gate`` (API keys, tenancy, rate
limit), ``path_params`` (ids in the URL) and ``errors`` (documented refusals and the answers
to unavailable Kafka or MongoDB).
"""
