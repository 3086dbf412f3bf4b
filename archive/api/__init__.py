"""The Litestar application: routes, problem details, request plumbing."""
