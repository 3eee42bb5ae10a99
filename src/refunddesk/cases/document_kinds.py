"""The kinds of material an agent may ask a customer for. The assessment's
`documents_required` uses the same codes."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DocumentKind(models.TextChoices):
    PAYMENT_PROOF = "payment_proof", _("Proof of payment (receipt or bank statement)")
    IDENTITY_DOCUMENT = "identity_document", _("Proof of identity")
    ACCOUNT_VERIFICATION = "account_verification", _("Proof that you own the account")
    USAGE_RECORDS = "usage_records", _("Records of your use of the service")
    PROBLEM_EVIDENCE = "problem_evidence", _("Evidence of the problem (screenshots, logs)")
    INVOICE_RETURN = "invoice_return", _("The returned or cancelled invoice")
    OTHER = "other", _("Other material (see the question)")


def label(code: str) -> str:
    try:
        return str(DocumentKind(code).label)
    except ValueError:
        return code
