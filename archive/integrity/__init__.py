"""The integrity sweep: orphans, missing objects, digest mismatches."""
