"""Retention: how long each contact is kept, and how far a hold may keep it longer."""
