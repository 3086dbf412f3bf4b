"""The privacy team's operations on data-subject requests: check, act, audit, commit, then
what follows a commit.

The API, the pages and the console call these, each with its own `Actor`, so every entry point
records the same trail and leaves the same state. Erasure is not here: it sits above privacy,
beside the expiry sweep, and works in transactions of its own.
"""

from archive.privacy.use_cases.cases import (
    CaseFile,
    case_queue,
    close_case,
    decide_objection,
    extend_case,
    named_queue,
    open_case,
    read_case,
    read_case_file,
    read_certificates,
    rectify,
    verify_identity,
)
from archive.privacy.use_cases.customers import (
    find_customer,
    restrict_customer,
    restrict_for_case,
)
from archive.privacy.use_cases.exports import (
    Download,
    build_and_download,
    case_exports,
    destroy_export,
    download_export,
    export_progress,
    issue_link,
    request_export,
)

__all__ = [
    "CaseFile",
    "Download",
    "build_and_download",
    "case_exports",
    "case_queue",
    "close_case",
    "decide_objection",
    "destroy_export",
    "download_export",
    "export_progress",
    "extend_case",
    "find_customer",
    "issue_link",
    "named_queue",
    "open_case",
    "read_case",
    "read_case_file",
    "read_certificates",
    "rectify",
    "request_export",
    "restrict_customer",
    "restrict_for_case",
    "verify_identity",
]
