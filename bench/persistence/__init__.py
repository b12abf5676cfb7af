"""Analyzer repository upserts against raw PyMongo bulk writes."""
