"""What people and loops do with cases, actions and meetings: load, decide (domain), store
with the events it caused, publish. Shared by the HTTP API, the handlers and the sweep.

One module per aggregate (``cases``, ``actions``, ``meetings``), the outbox relay in
``outbox`` and what they share (clock, event ids, loading, idempotent replays) in ``common``.
"""
