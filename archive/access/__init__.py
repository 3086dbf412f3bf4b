"""Permissions every route declares, and the guard that enforces them."""
