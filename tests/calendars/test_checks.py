"""The system check warns, before it happens, that a calendar the policies in use count
business days on runs out within the reach of their deadlines; `refunddesk check` shows it."""

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from refunddesk.billing.models import Product
from refunddesk.calendars import actions
from refunddesk.calendars.checks import RUNS_OUT, UNKNOWN_NOW, shortfalls
from refunddesk.calendars.date_lists import parse_date_list
from refunddesk.policy.business_days import business_calendar

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(business_calendar("CN").covers(date(2027, 1, 1)),
                       reason="chinesecalendar knows 2027 now: move the story a year on"),
]

SHANGHAI = ZoneInfo("Asia/Shanghai")
EARLY_DECEMBER_2026 = datetime(2026, 12, 4, 12, 0, tzinfo=SHANGHAI)


@pytest.fixture
def servers_under_tencent_cloud(db):
    # tencent-cloud counts its SLA in business days on the CN calendar.
    return Product.objects.create(code="cvm", category="cloud_server", name_zh="云服务器",
                                  name_en="Cloud server", policy_id="tencent-cloud")


def test_a_calendar_in_use_ending_within_the_horizon_is_reported(servers_under_tencent_cloud):
    [found] = shortfalls(EARLY_DECEMBER_2026, 90)

    assert (found.code, found.policies, found.known_through, found.needed_through) == (
        "CN", ("tencent-cloud",), date(2026, 12, 31), date(2027, 3, 4))


def test_nothing_is_reported_while_the_calendar_reaches_past_the_horizon(
        servers_under_tencent_cloud):
    assert shortfalls(EARLY_DECEMBER_2026, 20) == []


def test_importing_the_next_year_silences_the_warning(servers_under_tencent_cloud, admin):
    listed = parse_date_list("2027-01-01 holiday 元旦", year=2027).days
    actions.import_year("CN", 2027, listed, actor=admin)

    assert shortfalls(EARLY_DECEMBER_2026, 90) == []


def test_a_year_without_any_data_is_reported_as_unknown_today(servers_under_tencent_cloud):
    [found] = shortfalls(datetime(2027, 3, 1, tzinfo=SHANGHAI), 90)
    assert found.known_through is None


def test_calendars_no_product_uses_are_not_reported(db):
    Product.objects.create(code="misc", category="other", name_zh="其他", name_en="Other")
    assert shortfalls(EARLY_DECEMBER_2026, 90) == []


def test_refunddesk_check_shows_the_warning(servers_under_tencent_cloud, settings):
    # A horizon no calendar reaches, so the warning shows whatever today is.
    settings.REFUNDDESK_CALENDAR_HORIZON_DAYS = 100_000
    err = io.StringIO()

    call_command("check", stdout=io.StringIO(), stderr=err)

    shown = err.getvalue()
    assert RUNS_OUT in shown or UNKNOWN_NOW in shown
    assert "The business calendar of CN" in shown
    assert "tencent-cloud" in shown and "Import a year's schedule" in shown
