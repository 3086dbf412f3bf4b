"""Data subjects: identifiers, blind-index lookup and the customer service."""
