"""Erasure certificates: how one is signed, checked and read. A certificate holds no personal
data, only ids, channels, dates and why anything was withheld."""

from __future__ import annotations

import hashlib
import hmac
import json

from archive.audit import audit_key, audit_key_id
from archive.privacy.models import ErasureCertificate
from archive.runtime import Runtime

CERTIFICATE_FORMAT = "contact-archive/erasure-certificate/v1"


def sign(runtime: Runtime, document: str) -> tuple[str, str]:
    """The signature of a certificate's canonical JSON, and the id of the key that made it."""
    key = audit_key(runtime.keys)
    return hmac.new(key, document.encode(), hashlib.sha256).hexdigest(), audit_key_id(key)


def verify_certificate(runtime: Runtime, certificate: ErasureCertificate) -> bool:
    expected, key_id = sign(runtime, certificate.document)
    return certificate.key_id == key_id and hmac.compare_digest(expected, certificate.signature)


def certificate_document(certificate: ErasureCertificate) -> dict[str, object]:
    loaded: dict[str, object] = json.loads(certificate.document)
    return loaded
