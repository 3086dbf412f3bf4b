"""What people do through single sign-on, and what administrators do with the group mapping:
checked, recorded, committed, once per operation, for the API, the pages and the console alike.

Import the use cases from their modules: `login` (the login through the provider, logouts) and
`mapping` (the group-to-role mapping).
"""
