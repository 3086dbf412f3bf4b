"""Backups of the database and the keys, a manifest of the objects, and restores into a fresh
archive ([backup.md](../../docs/backup.md))."""
