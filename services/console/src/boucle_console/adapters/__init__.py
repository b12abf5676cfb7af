"""Clients of the other services' HTTP APIs, always with the signed-in person's token."""
