"""Opaque keyset cursors: a page continues after the last row's id, so rows added while a
client pages through never make a page repeat or skip one."""

from __future__ import annotations

import base64
import binascii

from django.utils.translation import gettext as _

from refunddesk.api.errors import ApiError


def cursor_id(cursor: str) -> int:
    try:
        value = int(base64.urlsafe_b64decode(cursor.encode("ascii") + b"==").decode("ascii"))
    except (ValueError, UnicodeError, binascii.Error):
        raise ApiError(422, "invalid", _("This cursor is not one the API gave."),
                       "cursor") from None
    if value < 1:
        raise ApiError(422, "invalid", _("This cursor is not one the API gave."), "cursor")
    return value


def cursor_for(row_id: int) -> str:
    return base64.urlsafe_b64encode(str(row_id).encode("ascii")).decode("ascii").rstrip("=")
