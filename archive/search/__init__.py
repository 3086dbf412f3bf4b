"""Full-text search over contacts with no plaintext word in the database (docs/search.md)."""
