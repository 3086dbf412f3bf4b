"""Audited reads against the real API server with 1, 2 and 4 server processes on PostgreSQL."""
