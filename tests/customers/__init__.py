"""Tests of the customers package."""
