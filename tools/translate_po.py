"""Fill a .po catalogue from a Python dict of msgid → translation (a maintainer's helper).

Usage: python tools/translate_po.py CATALOG.po TRANSLATIONS.py
TRANSLATIONS.py defines ZH = {msgid: msgstr}. Existing translations are kept unless the
dict gives a new one; msgids the dict lacks are listed so nothing ships untranslated.
"""

import runpy
import sys

from babel.messages.pofile import read_po, write_po


def main(catalog_path: str, translations_path: str) -> int:
    translations = runpy.run_path(translations_path)["ZH"]
    with open(catalog_path, "rb") as handle:
        catalog = read_po(handle)
    catalog.fuzzy = False  # the header of a fresh makemessages catalogue is marked fuzzy
    missing = []
    for message in catalog:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        if key in translations:
            message.string = translations[key]
            message.flags.discard("fuzzy")
        elif not message.string:
            missing.append(key)
    with open(catalog_path, "wb") as handle:
        write_po(handle, catalog, width=100)
    for key in missing:
        print(f"untranslated: {key!r}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
