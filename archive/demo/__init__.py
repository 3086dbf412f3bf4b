"""The demo dataset used by the embedded default."""
