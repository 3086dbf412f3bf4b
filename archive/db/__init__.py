"""The SQL layer: declarative base, engines and sessions, migrations."""
