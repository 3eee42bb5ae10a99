"""Calendar tests: an admin who keeps the calendars, messages read in English."""

import pytest
from django.utils import translation

from tests.staff import staff_member


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


@pytest.fixture
def admin(db):
    return staff_member("calendar-admin", "admin")
