"""The Celery application: thin tasks over the archive's service layer."""
