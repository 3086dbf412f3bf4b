"""The HTTP toolkit of routes and pages: problem details, request ids, headers, ranges and
downloads, dependencies, the actor of a request. The application is assembled in archive/app.py."""
