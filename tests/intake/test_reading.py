"""Reading received mail: RFC 2047 headers, the charsets of Chinese mail, HTML-only mail as
safe text, replies without their quotes, attachments, and mail machines sent."""

import base64

from refunddesk.intake.reading import html_to_text, read_mail
from tests.intake.conftest import corpus


def test_a_request_in_the_documented_format_is_read_with_its_attachment():
    mail = read_mail(corpus("request_format.eml"))

    assert (mail.from_name, mail.from_address) == ("李雷", "li.lei@example.com")
    assert mail.subject == "退款申请 / Refund request: TC-20260301-0001"
    assert mail.message_id == "format-1@mail.example.com"
    assert "订单 / Order: TC-20260301-0001" in mail.text
    assert [(a.name, a.content_type) for a in mail.attachments] == [
        ("receipt.pdf", "application/pdf")]
    assert mail.language == "zh-hans" and not mail.automatic


def test_chinese_mail_declared_gb2312_is_read_whole_even_with_gbk_only_characters():
    mail = read_mail(corpus("free_form_gbk.eml"))

    assert mail.subject == "申请退款"
    assert "订单 TC-20260301-0001" in mail.text
    assert "联系人：王镕" in mail.text  # 镕 is in GBK, not in GB2312
    assert "\ufffd" not in mail.text


def test_html_only_mail_becomes_plain_text_without_scripts_or_styles():
    mail = read_mail(corpus("html_only.eml"))

    assert mail.text == ("Hello,\n\nplease refund order TC-20260301-0001.\n\n"
                         "Thanks & regards,\nLi Lei")
    assert "alert" not in mail.text and "color" not in mail.text
    assert mail.from_address == "li.lei@example.com"  # the address in lower case


def test_html_markup_never_comes_through_as_markup():
    assert html_to_text("<p>a &lt;b&gt; <img src=x onerror=alert(1)></p>") == "a <b>"


def test_an_outlook_reply_in_chinese_keeps_only_what_the_customer_wrote():
    mail = read_mail(corpus("reply_outlook_zh.eml", tracking="K7QH3M9TXW4"))

    assert mail.reply == "付款截图已附上，请查收。"
    assert "请上传付款凭证" in mail.text
    assert "refunds+k7qh3m9txw4@desk.example" in mail.to_addresses
    assert mail.in_reply_to == ["case-mail-1@desk.example"]


def test_a_gmail_reply_in_english_keeps_only_what_the_customer_wrote():
    mail = read_mail(corpus("reply_gmail_en.eml", tracking="K7QH-3M9T-XW4"))

    assert mail.reply == "The server was never used, I only tested it once."
    assert mail.language == "en"


def test_bounces_and_automatic_replies_are_recognised_as_sent_by_machines():
    assert read_mail(corpus("bounce.eml")).automatic == "bounce"
    assert read_mail(corpus("auto_reply.eml")).automatic == "auto-submitted"
    assert read_mail(corpus("request_format.eml")).automatic == ""


def test_a_failed_dmarc_or_dkim_verdict_is_noticed():
    assert read_mail(corpus("failed_dmarc.eml")).failed_authentication
    assert not read_mail(corpus("request_format.eml")).failed_authentication


def test_broken_mime_is_read_without_crashing_and_has_nothing_readable():
    mail = read_mail(corpus("broken_mime.eml"))

    assert mail.from_address == "li.lei@example.com"
    assert (mail.reply, mail.attachments) == ("", [])


def test_a_small_inline_picture_is_a_signature_logo_and_a_large_one_is_material():
    logo, photo = b"\x89PNG\r\n\x1a\n" + b"0" * 100, b"\x89PNG\r\n\x1a\n" + b"0" * 30000

    def part(name, data):
        return (f"--b\r\nContent-Type: image/png; name={name}\r\n"
                f"Content-Disposition: inline; filename={name}\r\n"
                f"Content-Transfer-Encoding: base64\r\nContent-ID: <{name}>\r\n\r\n"
                f"{base64.encodebytes(data).decode()}\r\n")
    raw = ("From: li.lei@example.com\r\nSubject: photo\r\nMIME-Version: 1.0\r\n"
           "Content-Type: multipart/related; boundary=b\r\n\r\n"
           "--b\r\nContent-Type: text/plain\r\n\r\nSee the photo.\r\n"
           + part("logo.png", logo) + part("screen.png", photo) + "--b--\r\n").encode()

    assert [a.name for a in read_mail(raw).attachments] == ["screen.png"]


def test_traditional_chinese_mail_in_big5_is_read():
    mail = read_mail(corpus("big5_request.eml"))

    assert mail.subject == "退款申請"
    assert mail.text == "您好，請退款，訂單 TC-20260301-0001。謝謝。"
    assert mail.language == "zh-hans"  # answered in Chinese


def test_a_forwarded_message_keeps_the_customers_words_and_the_forwarded_text():
    mail = read_mail(corpus("forwarded_gmail.eml"))

    assert mail.reply.startswith("Please refund this, I ordered it by mistake.")
    assert "Order TC-20260301-0001: cloud server" in mail.text
