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

    assert catalogue(source) == catalogue(compiled)


def catalogue(messages):
    """(context, id) → string, with plural entries (lists in a compiled catalogue) as
    tuples."""
    def frozen(value):
        return value if isinstance(value, str) else tuple(value)

    def context(value):  # a compiled catalogue gives contexts as bytes
        return value.decode() if isinstance(value, bytes) else value

    return {(context(m.context), frozen(m.id)): frozen(m.string) for m in messages if m.id}
