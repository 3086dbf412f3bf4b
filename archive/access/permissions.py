"""Permissions as `scope:resource:action` strings; every route declares the one it needs."""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    CUSTOMERS_SEARCH = "customers:identity:search"
    CUSTOMERS_READ = "customers:identity:read"
    CONTACTS_LIST = "contacts:metadata:read"
    CONTACTS_CONTENT_READ = "contacts:content:read"
    CONTACTS_CREATE = "contacts:content:create"
    TICKETS_READ = "tickets:record:read"
    TICKETS_WRITE = "tickets:record:write"
