"""The connectors' use cases: a pass over a mailbox, a folder or a bucket, and the report of
every connector, shared by the commands, the workers and the pages."""
