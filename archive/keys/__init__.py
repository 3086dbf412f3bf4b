"""Data keys of rows and objects: issuing, opening, and rotation of key-encryption keys."""
