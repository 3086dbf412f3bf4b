"""Tests of the contacts package."""
