"""Every user-visible string has its Chinese translation, and the compiled catalogue is current."""

from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

import refunddesk

LOCALE = Path(refunddesk.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES"


def read_catalogues():
    with (LOCALE / "django.po").open("rb") as po, (LOCALE / "django.mo").open("rb") as mo:
        return read_po(po), read_mo(mo)


def test_every_message_has_a_chinese_translation_that_is_not_fuzzy():
    source, _ = read_catalogues()

    untranslated = [m.id for m in source if m.id and (not m.string or m.fuzzy)]

    assert untranslated == []


def test_the_compiled_catalogue_matches_the_source():
    source, compiled = read_catalogues()

    assert {m.id: m.string for m in source if m.id} == {m.id: m.string for m in compiled if m.id}
