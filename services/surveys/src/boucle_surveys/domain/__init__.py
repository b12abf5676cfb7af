"""The surveys service's domain: collection plans, solicitations, links and response rates.
Pure Python: no FastStream, PyMongo or HTTP imports."""
