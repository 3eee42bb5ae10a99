"""A year's schedule as admins paste it: one date a line, every bad line named with its
number and what is wrong."""

from datetime import date

from refunddesk.calendars.date_lists import MAX_LINES, parse_date_list

SCHEDULE_2026 = """\
# The 2026 Spring Festival, as the State Council published it (chinesecalendar has it too)
2026-02-14 workday 春节调休
2026-02-15 holiday 春节
2026-02-16 HOLIDAY Spring Festival

2026-02-28 Workday
"""


def test_a_good_list_gives_its_days_in_date_order_with_kinds_names_and_line_numbers():
    parsed = parse_date_list(SCHEDULE_2026, year=2026)

    assert parsed.is_valid
    assert [(d.day, d.kind, d.name, d.line) for d in parsed.days] == [
        (date(2026, 2, 14), "workday", "春节调休", 2),
        (date(2026, 2, 15), "holiday", "春节", 3),
        (date(2026, 2, 16), "holiday", "Spring Festival", 4),
        (date(2026, 2, 28), "workday", "", 6),
    ]


def test_every_bad_line_is_reported_with_its_number_and_the_good_ones_do_not_hide_them():
    text = "\n".join([
        "2027-01-01 holiday 元旦",        # 1: fine
        "2027/02/06 holiday",             # 2: not YYYY-MM-DD
        "2027-02-30 holiday",             # 3: no such day
        "2027-02-07",                     # 4: no kind
        "2027-02-08 off",                 # 5: unknown kind
        "2028-01-01 holiday",             # 6: another year
        "2027-01-01 workday",             # 7: listed twice
        "2027-02-09 holiday " + "x" * 101,  # 8: name too long
    ])

    parsed = parse_date_list(text, year=2027)

    assert not parsed.is_valid
    assert [str(error) for error in parsed.errors] == [
        "Line 2: “2027/02/06” is not a date; write it as YYYY-MM-DD, e.g. 2027-01-01.",
        "Line 3: 2027-02-30 is no date of the calendar.",
        "Line 4: after the date, write “holiday” or “workday”.",
        "Line 5: “off” is neither “holiday” nor “workday”.",
        "Line 6: 2028-01-01 is not part of the 2027 schedule (its dates, or December before "
        "it).",
        "Line 7: 2027-01-01 is already listed on line 1.",
        "Line 8: the name is longer than 100 characters.",
    ]
    assert parsed.errors[1].text == "2027-02-30 holiday"


def test_the_december_before_belongs_to_a_new_years_schedule():
    # The 2019 New Year holiday began on 30 December 2018, with Saturday the 29th worked.
    parsed = parse_date_list("2018-12-29 workday\n2018-12-30 holiday\n2019-01-01 holiday",
                             year=2019)
    assert parsed.is_valid
    assert parse_date_list("2018-11-30 holiday", year=2019).errors


def test_an_empty_or_comment_only_list_is_refused_as_a_whole():
    parsed = parse_date_list("# nothing yet\n\n", year=2027)
    assert not parsed.is_valid and not parsed.errors
    assert parsed.problem.startswith("The list has no dates.")


def test_an_overlong_list_is_refused_before_reading_it():
    parsed = parse_date_list("2027-01-01 holiday\n" * (MAX_LINES + 1), year=2027)
    assert parsed.problem == f"The list has {MAX_LINES + 1} lines; at most {MAX_LINES} are taken."
    assert parsed.days == []


def test_a_byte_order_mark_and_windows_line_ends_are_taken_in_stride():
    parsed = parse_date_list("\ufeff2027-01-01 holiday 元旦\r\n2027-02-06 holiday\r\n",
                             year=2027)
    assert [d.day for d in parsed.days] == [date(2027, 1, 1), date(2027, 2, 6)]
