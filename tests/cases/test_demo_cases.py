"""The demo opens refund cases through the real actions, so the console has work on first
start: most in review, some answered, asked about, approved or rejected by the demo staff."""

from collections import Counter

import pytest
from django.utils import timezone

from refunddesk.billing.demo import load_demo_data
from refunddesk.cases.demo import open_demo_cases
from refunddesk.cases.models import CaseEvent, RefundCase
from refunddesk.core.demo_staff import ensure_demo_customers, ensure_demo_staff

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_the_demo_opens_cases_in_every_working_state_once(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    now = timezone.now()
    load_demo_data(seed=2026, now=now)
    ensure_demo_staff()
    ensure_demo_customers()

    result = open_demo_cases(now)

    states = Counter(RefundCase.objects.values_list("state", flat=True))
    assert result.opened == RefundCase.objects.count() >= 40
    assert {"in_review", "awaiting_customer", "approved", "rejected"} <= set(states)
    assert states["in_review"] == result.in_review >= 20
    assert RefundCase.objects.filter(assessed_total_minor__gt=0).count() >= 30
    assert CaseEvent.objects.filter(actor__username="demo-agent").exists()
    # and a second start opens none
    assert open_demo_cases(now).opened == 0
