"""Holds: what keeps a contact past its time, the cap on how long, and S3 legal holds."""
