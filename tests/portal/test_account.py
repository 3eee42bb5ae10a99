"""My account: orders with lines, payments and refund status; subscriptions and cancelling
auto-renewal."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from refunddesk.billing.actions import cancel_auto_renewal
from refunddesk.billing.models import Subscription
from refunddesk.cases import actions
from tests.portal.builders import line_subscription, server_order, subscription_for

pytestmark = pytest.mark.django_db
EN = {"Accept-Language": "en"}


def test_my_account_shows_the_orders_with_lines_and_payments(alice_client, alice_order):
    page = alice_client.get(reverse("portal:account")).content.decode()

    assert alice_order.external_id in page
    assert "云服务器 CVM" in page
    assert "¥960.00" in page  # the line's amount paid, as Chinese readers write money
    assert "¥900.00" in page and "¥60.00" in page  # the payments
    assert "CN¥" not in page
    assert reverse("portal:apply", args=[alice_order.external_id]) in page


def test_my_account_names_products_in_english_for_an_english_viewer(alice_client, alice_order):
    page = alice_client.get(reverse("portal:account"), headers=EN).content.decode()

    assert "Cloud Virtual Machine" in page
    assert "Alipay" in page


def test_my_account_shows_a_lines_refund_status(alice_client, alice, alice_order,
                                                alice_account):
    page = alice_client.get(reverse("portal:account"), headers=EN).content.decode()
    assert "No refund request" in page

    case = actions.submit(account=alice_account, order=alice_order, line_ids=["1"],
                          actor=alice, channel="portal")
    page = alice_client.get(reverse("portal:account"), headers=EN).content.decode()

    assert "No refund request" not in page
    assert reverse("portal:case", args=[case.tracking_number]) in page
    assert "Approved" in page
    assert reverse("portal:apply", args=[alice_order.external_id]) not in page


def test_my_account_pages_orders_newest_first(alice_client, alice_account):
    for n in range(12):
        server_order(f"TC-MANY-{n:02}", alice_account.external_id, alice_account.email,
                     started_days_ago=30 + n)

    first = alice_client.get(reverse("portal:account")).content.decode()
    second = alice_client.get(reverse("portal:account") + "?page=2").content.decode()

    assert first.index("TC-ALICE-1") < first.index("TC-MANY-00") < first.index("TC-MANY-08")
    assert "TC-MANY-09" not in first
    assert "TC-MANY-11" in second


def test_my_account_shows_a_subscription_with_its_renewal_date(alice_client, alice_account):
    subscription = subscription_for(alice_account)

    page = alice_client.get(reverse("portal:account"), headers=EN).content.decode()

    renews = timezone.localtime(subscription.current_period_end).strftime("%Y-%m-%d")
    assert f"On: renews on {renews}" in page
    assert "cannot be refunded once charged" in page
    assert reverse("portal:cancel_auto_renewal", args=["SUB-1"]) in page


def test_cancelling_auto_renewal_asks_first_and_says_a_renewal_is_not_refundable(
        alice_client, alice_account):
    subscription_for(alice_account)

    page = alice_client.get(reverse("portal:cancel_auto_renewal", args=["SUB-1"]),
                            headers=EN).content.decode()

    assert "A renewal cannot be refunded once it has been charged." in page
    assert Subscription.objects.get().is_auto_renew


def test_cancelling_auto_renewal_turns_it_off_and_a_second_cancel_is_harmless(
        alice_client, alice_account):
    subscription_for(alice_account)
    url = reverse("portal:cancel_auto_renewal", args=["SUB-1"])

    first = alice_client.post(url, {"confirmed": "True"})
    cancelled_at = Subscription.objects.get().auto_renew_cancelled_at
    second = alice_client.post(url, {"confirmed": "True"}, headers=EN)

    subscription = Subscription.objects.get()
    assert first.status_code == second.status_code == 302
    assert not subscription.is_auto_renew
    assert subscription.auto_renew_cancelled_at == cancelled_at is not None
    page = alice_client.get(reverse("portal:account"), headers=EN).content.decode()
    assert "Off: ends on" in page


def test_a_cancel_post_without_the_confirmation_only_asks(alice_client, alice_account):
    subscription_for(alice_account)

    response = alice_client.post(reverse("portal:cancel_auto_renewal", args=["SUB-1"]), {})

    assert response.status_code == 200
    assert Subscription.objects.get().is_auto_renew


def test_cancel_auto_renewal_records_when_and_is_idempotent(alice, alice_account):
    subscription = subscription_for(alice_account)
    now = timezone.now()

    cancel_auto_renewal(subscription, actor=alice, now=now)
    again = cancel_auto_renewal(subscription, actor=alice, now=now + timedelta(hours=1))

    assert again.is_auto_renew is False
    assert again.auto_renew_cancelled_at == now
    assert again.renews_at is None


@pytest.mark.parametrize(("language", "ended", "renews"), [
    ("en", "Off: ended on {date}", "renews on"),
    ("zh-hans", "已关闭：已于 {date} 结束", "续费"),
])
def test_after_a_whole_refund_my_account_says_the_service_ended_and_no_longer_renews(
        alice_client, alice, alice_order, alice_account, language, ended, renews):
    line_subscription(alice_order)
    page = alice_client.get(reverse("portal:account"), headers=EN).content.decode()
    assert "On: renews on" in page

    actions.submit(account=alice_account, order=alice_order, line_ids=["1"], actor=alice,
                   channel="portal")  # inside the five days: approved at once, in full

    page = alice_client.get(reverse("portal:account"),
                            headers={"Accept-Language": language}).content.decode()
    today = timezone.localdate().strftime("%Y-%m-%d")
    assert ended.format(date=today) in page
    assert f"On: {renews}" not in page and "开启：" not in page
    assert reverse("portal:cancel_auto_renewal", args=["SUB-CVM-1"]) not in page


def test_a_subscription_ending_later_says_when_and_one_ended_long_ago_is_no_longer_listed(
        alice_client, alice_account):
    later = subscription_for(alice_account, external_id="SUB-LATER")
    later.is_auto_renew, later.ended_at = False, timezone.now() + timedelta(days=30)
    later.save()
    old = subscription_for(alice_account, external_id="SUB-OLD")
    old.is_auto_renew, old.ended_at = False, timezone.now() - timedelta(days=200)
    old.sku = "vpn.old"
    old.save()

    page = alice_client.get(reverse("portal:account"), headers=EN).content.decode()

    ends = timezone.localtime(later.ended_at).strftime("%Y-%m-%d")
    assert f"Off: ends on {ends}" in page
    assert "vpn.old" not in page and "vpn.year" in page
