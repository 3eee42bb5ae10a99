"""E-mail addresses in narrow console columns wrap after "@" and before dots, never inside a
word, and stay escaped."""

from refunddesk.console.templatetags.console_text import email_breaks


def test_an_address_may_wrap_only_after_the_at_sign_and_before_dots():
    assert email_breaks("li.lei@mail.example.com") == (
        "li<wbr>.lei@<wbr>mail<wbr>.example<wbr>.com")


def test_markup_in_an_address_is_escaped():
    assert email_breaks('"><script>@x.cn') == (
        "&quot;&gt;&lt;script&gt;@<wbr>x<wbr>.cn")


def test_nothing_gives_nothing():
    assert email_breaks(None) == ""
