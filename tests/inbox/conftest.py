"""Inbox tests: cases in review on the DESIGN example order, staff in their roles, and the
notices the actions write for them."""

import pytest

from refunddesk.inbox.models import EmailMode, Notice, Preference
from tests.cases.conftest import import_order, order, two_line_order  # noqa: F401 (fixtures)
from tests.cases.decision_builders import case_in_review
from tests.staff import approval_limit, staff_member


@pytest.fixture(autouse=True)
def in_english():
    # The sentences these tests read are the English source strings; zh-hans is the site's
    # default language.
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def mail_kept_locally(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def staff(db):
    """Two agents (approving up to 2,000.00 CNY alone), two reviewers, finance, admin."""
    approval_limit("agent", "CNY", 200000)
    return {name: staff_member(name, role) for name, role in (
        ("agent-a", "agent"), ("agent-b", "agent"), ("reviewer-a", "reviewer"),
        ("reviewer-b", "reviewer"), ("finance-a", "finance"), ("admin-a", "admin"))}


@pytest.fixture
def reviewed(order):  # noqa: F811 (the imported fixture)
    """The example order applied for after the five days: in review, prorated."""
    return case_in_review(order)


def notices(**filters):
    """(recipient's user name, kind) of the notices written, in order."""
    return [(notice.recipient.get_username(), notice.kind)
            for notice in Notice.objects.filter(**filters).order_by("id")]


def prefer(user, email: str = EmailMode.AT_ONCE, language: str = "en") -> Preference:
    return Preference.objects.update_or_create(
        user=user, defaults={"email": email, "language": language})[0]
