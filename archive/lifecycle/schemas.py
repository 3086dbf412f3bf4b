"""What the erasure route answers: whether the customer is erased completely, and the signed
certificate that says what was erased and what is withheld."""

from __future__ import annotations

from dataclasses import dataclass

from archive.lifecycle.erasure import ErasureResult
from archive.privacy.schemas import CertificateOut, certificate_out


@dataclass(frozen=True)
class ErasureOut:
    complete: bool
    detail: str
    certificate: CertificateOut


def erasure_out(result: ErasureResult) -> ErasureOut:
    if result.certificate.complete:
        detail = "erased completely; the case is closed"
    else:
        detail = (
            f"erased partially: {len(result.withheld)} contacts are withheld under active holds "
            "or awaiting an identity review (listed in the certificate) and will be erased when "
            "the hold ends or the review confirms them as this customer's; the case stays open"
        )
    return ErasureOut(result.certificate.complete, detail, certificate_out(result.certificate))
