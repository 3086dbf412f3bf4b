"""The archive's Prometheus metrics: what each process counts, and how several processes'
counts become one answer. A bottom module: it imports no domain, and the domains call it."""
