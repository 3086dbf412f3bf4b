"""Tests of the retention package."""
