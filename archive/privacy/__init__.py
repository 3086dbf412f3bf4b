"""Data-subject requests: each a case with a clock, handled by the privacy officer."""
