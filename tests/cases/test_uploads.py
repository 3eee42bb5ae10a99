"""Evidence uploads: accepted by what they contain, refused clearly, stored under a safe name."""

import hashlib
import io
import pickle
import re
import zipfile

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.utils import override_settings
from django.utils import translation

from refunddesk.cases.uploads import (
    ALLOWED_TYPES,
    NAME_MAX_BYTES,
    NAME_MAX_CHARS,
    TEXT_SNIFF_BYTES,
    CheckedUpload,
    UploadRefused,
    check_upload,
    sanitise_name,
    storage_name,
)

MB = 1024 * 1024

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = (
    b"\x89PNG\r\n\x1a\n"
    b"\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
_WEBP_BODY = b"WEBP" + b"VP8L\x05\x00\x00\x00\x2f\x00\x00\x00\x00\x00"
WEBP = b"RIFF" + len(_WEBP_BODY).to_bytes(4, "little") + _WEBP_BODY
CHINESE_TEXT = "退款申请：订单 TC-20260301-0001 被重复扣款，请退回一笔。\r\n\t谢谢！\f\n".encode()

ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00\x01\x00\x00\x00"
WINDOWS_PE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    b"\xb8\x00\x00\x00\x00\x00\x00\x00@\x00" + b"This program cannot be run in DOS mode."
)


def zip_archive():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("invoice.pdf", PDF)
    return buffer.getvalue()


def upload(content, name="evidence.bin", content_type="application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def refusal(content, name="evidence.bin", **kwargs):
    with pytest.raises(UploadRefused) as raised:
        check_upload(upload(content, name), **kwargs)
    return raised.value


# Accepted types


@pytest.mark.parametrize(("name", "content", "content_type", "checked_name"), [
    ("invoice.pdf", PDF, "application/pdf", "invoice.pdf"),
    ("screenshot.png", PNG, "image/png", "screenshot.png"),
    ("photo.jpg", JPEG, "image/jpeg", "photo.jpg"),
    ("receipt.webp", WEBP, "image/webp", "receipt.webp"),
    ("说明.txt", CHINESE_TEXT, "text/plain", "说明.txt"),
])
def test_each_allowed_type_is_accepted_for_what_it_contains(
    name, content, content_type, checked_name
):
    given = upload(content, name)

    checked = check_upload(given)

    assert checked == CheckedUpload(
        name=checked_name,
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )
    assert ALLOWED_TYPES[checked.content_type] == "." + checked_name.rsplit(".", 1)[1]


def test_the_browsers_content_type_is_ignored_in_favour_of_the_content():
    given = upload(PDF, "invoice.pdf", content_type="text/html")

    checked = check_upload(given)

    assert checked.content_type == "application/pdf"


def test_the_allowed_types_map_each_content_type_to_its_extension():
    assert dict(ALLOWED_TYPES) == {
        "application/pdf": ".pdf",
        "image/png": ".png",
        "image/jpeg": ".jpg",
        "image/webp": ".webp",
        "text/plain": ".txt",
    }


# Size


def test_a_file_over_the_limit_is_refused_as_too_large():
    refused = refusal(b"%PDF-1.4\n..", max_bytes=10)

    assert refused.code == "too_large"


def test_a_file_exactly_at_the_limit_is_accepted():
    checked = check_upload(upload(b"%PDF-1.4\n.", "a.pdf"), max_bytes=10)

    assert checked.size == 10


def test_the_too_large_message_gives_the_limit_and_the_files_size_in_megabytes():
    given = upload(b"a" * (2 * MB + 1))

    with pytest.raises(UploadRefused) as raised:
        check_upload(given, max_bytes=2 * MB)

    with translation.override("en"):
        assert raised.value.message == "The file is 2.1 MB; files up to 2 MB are accepted."
        assert str(raised.value) == raised.value.message


@override_settings(REFUNDDESK_UPLOAD_MAX_BYTES=16)
def test_without_max_bytes_the_limit_comes_from_the_setting():
    assert check_upload(upload(b"a" * 16)).size == 16
    assert refusal(b"a" * 17).code == "too_large"


def test_without_the_setting_the_limit_is_ten_megabytes():
    with override_settings():
        del settings.REFUNDDESK_UPLOAD_MAX_BYTES

        assert check_upload(upload(b"a" * (10 * MB))).size == 10 * MB
        assert refusal(b"a" * (10 * MB + 1)).code == "too_large"


def test_an_empty_file_is_refused():
    refused = refusal(b"", "invoice.pdf")

    assert refused.code == "empty"
    with translation.override("en"):
        assert refused.message == "The file is empty."


# Refused types


@pytest.mark.parametrize(("name", "content"), [
    pytest.param("invoice.pdf", ELF, id="ELF executable renamed .pdf"),
    pytest.param("invoice.pdf", WINDOWS_PE, id="Windows PE executable"),
    pytest.param("receipts.zip", zip_archive(), id="ZIP archive"),
    pytest.param("notes.txt", "café".encode("latin-1"), id="text that is not UTF-8"),
    pytest.param("notes.txt", b"order 1001\x00\x00refund", id="text with NUL bytes"),
    pytest.param("log.txt", b"\x1b[31mfailed\x1b[0m\n", id="text with terminal escapes"),
    pytest.param("notes.txt", b"line\vline\n", id="text with a vertical tab"),
])
def test_anything_but_the_allowed_types_is_refused_with_a_list_of_what_is_allowed(name, content):
    refused = refusal(content, name)

    assert refused.code == "type_not_allowed"
    with translation.override("en"):
        assert refused.message == (
            "This type of file is not accepted. Please upload a PDF, a PNG, JPEG or WebP "
            "image, or a plain text file (UTF-8)."
        )


@pytest.mark.parametrize("content", [
    pytest.param(b"<!DOCTYPE html><html><body>Refund me</body></html>", id="HTML page"),
    pytest.param(b"\xef\xbb\xbf \r\n  <HTML><p>hi</p></HTML>", id="HTML after BOM and spaces"),
    pytest.param(b"<p>Hello</p>", id="HTML fragment"),
    pytest.param(b"<!-- note -->\nhello", id="HTML comment"),
    pytest.param(b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', id="SVG"),
    pytest.param(b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>',
                 id="SVG with XML declaration"),
    pytest.param(b"Dear support,\nsee <SCRIPT>alert(document.cookie)</SCRIPT>\n",
                 id="script inside text"),
])
def test_markup_saved_as_text_is_refused_because_it_would_run_in_a_staff_browser(content):
    refused = refusal(content, "notes.txt")

    assert refused.code == "type_not_allowed"
    with translation.override("en"):
        assert refused.message.startswith("Web pages, SVG and XML files are not accepted.")


@pytest.mark.parametrize("content", [
    b"a < b and c > d\n",
    b"<3 thanks\n",
    b"<order id=1001> was charged twice\n",
    b"<abc@example.com> wrote:\n",
])
def test_text_that_only_mentions_angle_brackets_is_still_text(content):
    assert check_upload(upload(content)).content_type == "text/plain"


@pytest.mark.parametrize("ascii_before", [
    TEXT_SNIFF_BYTES - 1, TEXT_SNIFF_BYTES - 2, TEXT_SNIFF_BYTES - 3,
])
def test_a_chinese_character_across_the_edge_of_the_sniffed_window_is_not_taken_for_binary(
    ascii_before,
):
    given = upload(b"a" * ascii_before + "发票".encode() * 100)

    checked = check_upload(given)

    assert checked.content_type == "text/plain"


@pytest.mark.parametrize("tail", [
    pytest.param(b"\x80" * 10, id="stray continuation bytes"),
    pytest.param(b"\xe4\x41" * 10, id="a lead byte without its continuation"),
    pytest.param(b"\xff" * 10, id="bytes that never occur in UTF-8"),
])
def test_broken_utf8_just_inside_the_edge_of_the_sniffed_window_is_refused(tail):
    given = upload(b"a" * (TEXT_SNIFF_BYTES - 2) + tail)

    with pytest.raises(UploadRefused) as raised:
        check_upload(given)

    assert raised.value.code == "type_not_allowed"


def test_only_the_first_64_kb_decide_whether_a_file_is_text():
    given = upload(b"a" * TEXT_SNIFF_BYTES + b"\x00\xff binary tail")

    assert check_upload(given).content_type == "text/plain"


# Names


@pytest.mark.parametrize(("raw", "expected"), [
    ("../../etc/passwd", "passwd.pdf"),
    ("..\\..\\boot.ini", "boot.pdf"),
    ("C:\\Users\\li\\Desktop\\发票.pdf", "发票.pdf"),
    ("/var/www/../.ssh/id_rsa", "id_rsa.pdf"),
])
def test_a_path_in_the_name_is_reduced_to_its_last_part(raw, expected):
    assert sanitise_name(raw, ".pdf") == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("../../etc/passwd", "passwd.pdf"),
    ("..\\..\\boot.ini", "boot.pdf"),
])
def test_an_uploaded_file_named_with_a_path_is_stored_under_its_last_part(raw, expected):
    assert check_upload(upload(PDF, raw)).name == expected


def test_a_hidden_file_is_no_longer_hidden():
    assert check_upload(upload(b"Deny from all\n", ".htaccess")).name == "htaccess.txt"


@pytest.mark.parametrize("raw", ["...pdf", "..", ". .report.pdf"])
def test_no_name_starts_with_a_dot(raw):
    assert not sanitise_name(raw, ".pdf").startswith(".")


@pytest.mark.parametrize(("raw", "expected"), [
    ("in\x00vo\x1bice\x7f.pdf", "invoice.pdf"),
    ("bill\u202efdp.exe", "billfdp.pdf"),  # the right-to-left override hides ".exe"
    ("zero\u200bwidth.pdf", "zerowidth.pdf"),
    ("line\r\nbreak\ttab.pdf", "line break tab.pdf"),
    ("many    spaces\u3000here .pdf", "many spaces here.pdf"),
])
def test_control_and_invisible_characters_are_removed_and_whitespace_collapsed(raw, expected):
    assert check_upload(upload(PDF, raw)).name == expected


def test_characters_that_file_systems_refuse_are_removed():
    assert sanitise_name('a<b>c:d"e|f?g*h.pdf', ".pdf") == "abcdefgh.pdf"


def test_a_very_long_name_is_cut_to_120_characters_keeping_the_extension():
    checked = check_upload(upload(PDF, "x" * 300 + ".pdf"))

    assert checked.name == "x" * (NAME_MAX_CHARS - 4) + ".pdf"
    assert len(checked.name) == NAME_MAX_CHARS == 120


def test_a_very_long_chinese_name_also_fits_a_file_systems_byte_limit():
    name = sanitise_name("退款凭证" * 50 + ".pdf", ".pdf")

    assert name.endswith(".pdf")
    assert name.startswith("退款凭证")
    assert len(name.encode()) <= NAME_MAX_BYTES
    assert len(name) <= NAME_MAX_CHARS


@pytest.mark.parametrize(("raw", "content", "expected"), [
    ("report.exe", PDF, "report.pdf"),
    ("photo.pdf", PNG, "photo.png"),
    ("scan.jpeg", JPEG, "scan.jpg"),
    ("SCAN.JPG", JPEG, "SCAN.jpg"),
    ("image.gif", WEBP, "image.webp"),
    ("notes", b"plain words\n", "notes.txt"),
    ("archive.tar.gz", PDF, "archive.tar.pdf"),
    ("Invoice No. 5", PDF, "Invoice No. 5.pdf"),
])
def test_the_extension_is_made_to_match_the_content(raw, content, expected):
    assert check_upload(upload(content, raw)).name == expected


@pytest.mark.parametrize("raw", [
    "发票.pdf", "退款申请 2026年3月.pdf", "Ärger über Rückerstattung.pdf",
])
def test_names_in_chinese_and_other_scripts_are_kept(raw):
    assert check_upload(upload(PDF, raw)).name == raw


def test_a_decomposed_name_is_normalised_to_composed_characters():
    assert sanitise_name("Cafe\u0301.pdf", ".pdf") == "Caf\u00e9.pdf"


@pytest.mark.parametrize("raw", ["", None, "...", "<>:|?*", " . . ", "\x00\x01"])
def test_a_name_with_nothing_usable_left_becomes_document(raw):
    assert sanitise_name(raw, ".pdf") == "document.pdf"


def test_an_uploaded_file_whose_name_leaves_nothing_is_stored_as_document():
    assert check_upload(upload(PDF, "***")).name == "document.pdf"


@pytest.mark.parametrize(("raw", "expected"), [
    ("CON.pdf", "_CON.pdf"),
    ("nul", "_nul.pdf"),
    ("com1.tar.pdf", "_com1.tar.pdf"),
    ("console.pdf", "console.pdf"),
])
def test_windows_device_names_are_not_used_as_file_names(raw, expected):
    assert sanitise_name(raw, ".pdf") == expected


# Hash, size and rewinding


def test_the_hash_and_size_cover_the_whole_file_read_in_many_chunks():
    content = PDF + bytes(range(256)) * 2000  # bigger than one 64 KB chunk

    checked = check_upload(upload(content, "big.pdf"))

    assert checked.size == len(content)
    assert checked.sha256 == hashlib.sha256(content).hexdigest()


def test_the_file_is_rewound_after_the_check_so_it_can_be_saved():
    given = upload(CHINESE_TEXT, "说明.txt")

    check_upload(given)

    assert given.read() == CHINESE_TEXT


def test_a_refused_file_is_rewound_too():
    given = upload(ELF, "invoice.pdf")

    with pytest.raises(UploadRefused):
        check_upload(given)

    assert given.read() == ELF


# The refusal itself


def test_a_refusal_becomes_a_form_error_with_the_same_code_and_message():
    refused = refusal(b"a" * 11, max_bytes=10)

    error = refused.as_validation_error()

    with translation.override("en"):
        assert error.code == "too_large"
        assert error.messages == [refused.message]


def test_a_refusal_survives_pickling_for_a_background_task():
    refused = refusal(b"", "empty.pdf")

    copy = pickle.loads(pickle.dumps(refused))

    with translation.override("en"):
        assert (copy.code, copy.message) == ("empty", "The file is empty.")


def test_a_refusal_is_a_value_error():
    assert isinstance(refusal(b""), ValueError)


# Storage path


def test_a_document_is_stored_under_its_case_with_a_random_prefix_and_its_clean_name():
    checked = check_upload(upload(PDF, "../发票.exe"))

    path = storage_name("RD-2026-000123", checked)

    assert re.fullmatch(r"cases/RD-2026-000123/[0-9a-f]{32}-发票\.pdf", path)


def test_two_documents_with_the_same_name_get_different_paths():
    checked = check_upload(upload(PDF, "invoice.pdf"))

    assert storage_name("42", checked) != storage_name("42", checked)


@pytest.mark.parametrize("case_key", ["", "..", "../other", "a/b", "a\\b", ".hidden", "x" * 65])
def test_a_case_key_that_could_leave_the_cases_folder_is_refused(case_key):
    checked = check_upload(upload(PDF, "invoice.pdf"))

    with pytest.raises(ValueError, match="case key"):
        storage_name(case_key, checked)
