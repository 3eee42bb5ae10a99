"""The admin's business calendars page: how far each calendar is known, adding and removing
days, importing a year's list with a preview and per-line errors (bad input changes
nothing), the last changes; nobody but admins gets in."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from refunddesk.billing.models import Product
from refunddesk.calendars import actions
from refunddesk.calendars.models import CalendarChange, CalendarDay, EnteredYear
from refunddesk.calendars.reading import calendar_for

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}

# An example list for 2027, not the official schedule.
EXAMPLE_2027 = "2027-01-01 holiday 元旦\n2027-02-06 holiday 春节\n2027-02-20 workday 调休\n"


def nothing_changed():
    return (not CalendarDay.objects.exists() and not EnteredYear.objects.exists()
            and not CalendarChange.objects.exists())


def test_an_admin_sees_the_calendars_in_use_with_how_far_they_are_known(staff_client):
    Product.objects.create(code="cvm", category="cloud_server", name_zh="云服务器",
                           name_en="Cloud server", policy_id="tencent-cloud")
    client = staff_client("admin")

    response = client.get("/console/calendars/", **EN)

    assert response.status_code == 200
    [cn] = response.context["countries"]
    assert (cn.code, cn.policies, cn.packaged_years[0]) == ("CN", ["tencent-cloud"], 2004)
    body = response.content.decode()
    assert 'href="/console/calendars/CN/"' in body and "tencent-cloud" in body
    assert 'href="/console/calendars/"' in body  # the navigation shows the page to admins


def test_another_country_is_opened_by_its_code_and_an_unknown_one_is_refused(staff_client):
    client = staff_client("admin")

    assert client.get("/console/calendars/", {"country": "us"})["Location"] == (
        "/console/calendars/US/")
    refused = client.get("/console/calendars/", {"country": "XX"}, **EN)
    assert refused.status_code == 400
    assert "XX is not a country with a business calendar" in refused.content.decode()
    assert client.get("/console/calendars/XX/").status_code == 404


def test_an_admin_adds_a_day_and_sees_it_with_the_change_recorded(staff_client):
    client = staff_client("admin")

    response = client.post("/console/calendars/CN/days/",
                           {"day": "2027-01-01", "kind": "holiday", "name": "元旦"}, **EN)

    assert response.status_code == 302
    assert list(CalendarDay.objects.values_list("country", "day", "kind", "name")) == [
        ("CN", date(2027, 1, 1), "holiday", "元旦")]
    page = client.get("/console/calendars/CN/", **EN)
    body = page.content.decode()
    assert "2027-01-01" in body and "元旦" in body
    [line] = page.context["changes"]
    assert (line.who, line.what) == (client.user.username, "Added 2027-01-01 (holiday) 元旦")


def test_a_bad_day_is_refused_with_the_form_and_nothing_changes(staff_client):
    client = staff_client("admin")
    actions.add_day("CN", date(2027, 1, 1), "holiday", actor=client.user)

    bad = client.post("/console/calendars/CN/days/", {"day": "2027-13-01", "kind": "holiday"},
                      **EN)
    twice = client.post("/console/calendars/CN/days/", {"day": "2027-01-01", "kind": "workday"},
                        **EN)

    assert bad.status_code == 400 and "day" in bad.context["form"].errors
    assert twice.status_code == 400
    assert "2027-01-01 is already kept as a holiday" in twice.content.decode()
    assert CalendarDay.objects.count() == 1 and CalendarChange.objects.count() == 1


def test_an_admin_removes_a_day(staff_client):
    client = staff_client("admin")
    entry = actions.add_day("CN", date(2027, 1, 1), "holiday", actor=client.user)

    response = client.post(f"/console/calendars/CN/days/{entry.pk}/remove/", **EN)

    assert response.status_code == 302
    assert not CalendarDay.objects.exists()
    assert CalendarChange.objects.latest("id").kind == "day_removed"
    # a day of another country is not removed through this one's address
    other = actions.add_day("US", date(2026, 12, 24), "holiday", actor=client.user)
    client.post(f"/console/calendars/CN/days/{other.pk}/remove/", **EN)
    assert CalendarDay.objects.filter(pk=other.pk).exists()


def test_an_import_is_previewed_first_and_changes_nothing_until_confirmed(staff_client):
    client = staff_client("admin")

    preview = client.post("/console/calendars/CN/import/",
                          {"step": "preview", "year": "2027", "text": EXAMPLE_2027}, **EN)

    assert preview.status_code == 200
    plan = preview.context["plan"]
    assert [listed.day for listed in plan.added] == [
        date(2027, 1, 1), date(2027, 2, 6), date(2027, 2, 20)]
    assert "Import the 2027 schedule" in preview.content.decode()
    assert nothing_changed()

    confirmed = client.post("/console/calendars/CN/import/",
                            {"step": "confirm", "year": "2027", "text": preview.context["text"]},
                            **EN)

    assert confirmed.status_code == 302
    assert CalendarDay.objects.count() == 3
    assert list(EnteredYear.objects.values_list("country", "year")) == [("CN", 2027)]
    assert calendar_for("CN").covers(date(2027, 6, 1))
    page = client.get("/console/calendars/CN/", **EN)
    assert "Imported the 2027 schedule (3 dates): 3 added, 0 changed, 0 removed" in (
        page.content.decode())


def test_an_uploaded_file_is_read_like_a_pasted_list(staff_client):
    client = staff_client("admin")
    upload = SimpleUploadedFile("2027.txt", ("\ufeff" + EXAMPLE_2027).encode("utf-8"),
                                content_type="text/plain")

    preview = client.post("/console/calendars/CN/import/",
                          {"step": "preview", "year": "2027", "file": upload}, **EN)

    assert preview.status_code == 200
    assert len(preview.context["plan"].added) == 3
    assert nothing_changed()


def test_a_bad_list_names_every_bad_line_and_changes_nothing_even_when_confirmed(staff_client):
    client = staff_client("admin")
    text = "2027-01-01 holiday 元旦\n2027-02-30 holiday\n2027-02-07 off\n2026-06-01 holiday\n"

    for step in ("preview", "confirm"):
        response = client.post("/console/calendars/CN/import/",
                               {"step": step, "year": "2027", "text": text}, **EN)

        assert response.status_code == 400
        body = response.content.decode()
        assert "Nothing was imported: correct these lines." in body
        assert "Line 2: 2027-02-30 is no date of the calendar." in body
        assert "Line 3: “off” is neither “holiday” nor “workday”." in body
        assert "Line 4: 2026-06-01 is not part of the 2027 schedule" in body
        assert "Line 1" not in body
        assert nothing_changed()


@pytest.mark.parametrize(("data", "message"), [
    ({"year": "2027", "text": "  "}, "Paste the list or upload a file."),
    ({"year": "1999", "text": EXAMPLE_2027}, "greater than or equal to 2000"),
    ({"year": "2027", "text": EXAMPLE_2027,
      "file": SimpleUploadedFile("a.txt", b"2027-01-01 holiday")},
     "Paste the list or upload a file, not both."),
    ({"year": "2027", "file": SimpleUploadedFile("a.txt", "2027-01-01 假日".encode("gb18030"))},
     "The file is not UTF-8 text."),
])
def test_a_bad_import_form_is_refused_and_nothing_changes(staff_client, data, message):
    client = staff_client("admin")
    response = client.post("/console/calendars/CN/import/", {"step": "confirm", **data}, **EN)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert nothing_changed()


def test_an_admin_withdraws_an_entered_year(staff_client):
    client = staff_client("admin")
    client.post("/console/calendars/CN/import/",
                {"step": "confirm", "year": "2027", "text": EXAMPLE_2027})

    response = client.post("/console/calendars/CN/years/2027/withdraw/", **EN)

    assert response.status_code == 302
    assert not EnteredYear.objects.exists()
    assert CalendarDay.objects.count() == 3


@pytest.mark.parametrize("role", ["agent", "reviewer", "finance"])
def test_staff_other_than_admins_are_refused_and_change_nothing(staff_client, role):
    client = staff_client(role)
    day = CalendarDay.objects.create(country="CN", day=date(2027, 1, 1), kind="holiday")

    assert client.get("/console/calendars/").status_code == 403
    assert client.get("/console/calendars/CN/").status_code == 403
    assert client.post("/console/calendars/CN/days/",
                       {"day": "2027-02-06", "kind": "holiday"}).status_code == 403
    assert client.post(f"/console/calendars/CN/days/{day.pk}/remove/").status_code == 403
    assert client.post("/console/calendars/CN/import/",
                       {"step": "confirm", "year": "2027", "text": EXAMPLE_2027}
                       ).status_code == 403
    assert list(CalendarDay.objects.all()) == [day]
    assert not EnteredYear.objects.exists() and not CalendarChange.objects.exists()
    assert 'href="/console/calendars/"' not in client.get("/console/", **EN).content.decode()


def test_a_stranger_is_sent_to_log_in(client):
    for url in ("/console/calendars/", "/console/calendars/CN/", "/console/calendars/CN/import/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.post("/console/calendars/CN/days/",
                       {"day": "2027-01-01", "kind": "holiday"}).status_code == 302
    assert nothing_changed()


def test_the_page_speaks_chinese_by_default(staff_client):
    client = staff_client("admin")
    body = client.get("/console/calendars/CN/").content.decode()
    assert "工作日历" in body or "日历" in body
