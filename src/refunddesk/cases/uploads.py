"""Checks on an evidence file before it is stored: its size, its real type and its name.

The type is decided by the content alone. The browser's content type and the file's name are
chosen by the uploader, so trusting them would let an executable or a web page in under a
``.pdf`` name; and a web page served back to a staff member's browser would run in our origin.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import unicodedata
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from types import MappingProxyType
from typing import Any, Literal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

ALLOWED_TYPES: Mapping[str, str] = MappingProxyType({
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "text/plain": ".txt",  # always UTF-8: serve it with "; charset=utf-8"
})

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
TEXT_SNIFF_BYTES = 64 * 1024
NAME_MAX_CHARS = 120
# A file system takes 255 bytes per name, and storage_name() puts 33 characters in front.
NAME_MAX_BYTES = 200
FALLBACK_STEM = "document"

RefusalCode = Literal["too_large", "empty", "type_not_allowed"]

_MEGABYTE = 1024 * 1024
# Every control character except tab, line feed, carriage return and form feed: C0, DEL, C1.
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
# Beginnings that make a browser treat a file as HTML or as markup that can carry script
# (the HTML patterns of the WHATWG MIME Sniffing standard, plus XML and SVG).
_MARKUP_TAGS = (
    "!doctype", "html", "head", "script", "iframe", "h1", "div", "font", "table", "a",
    "style", "title", "b", "body", "br", "p", "svg",
)
_MARKUP_START = re.compile(r"<(?:!--|\?xml|(?:" + "|".join(_MARKUP_TAGS) + r")(?=[\s>/]|$))")
_SCRIPT_TAG = "<script"
_ILLEGAL_IN_NAMES = re.compile(r'[<>:"/\\|?*]')
_WHITESPACE = re.compile(r"\s+")
_EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,10})$")
_WINDOWS_DEVICES = frozenset(
    ["CON", "PRN", "AUX", "NUL"]
    + [f"COM{n}" for n in range(1, 10)]
    + [f"LPT{n}" for n in range(1, 10)]
)
_CASE_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


class UploadRefused(ValueError):
    """The upload is not accepted; ``code`` says why, ``message`` says it to the uploader.

    The message is kept lazy and rendered when read, so it comes out in the language that is
    active where it is shown, not where it was raised.
    """

    def __init__(
        self, code: RefusalCode, message: StrOrPromise, params: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(code, message, params)
        self.code = code
        self.template = message
        self.params = dict(params or {})

    @property
    def message(self) -> str:
        text = str(self.template)
        return text % self.params if self.params else text

    def __str__(self) -> str:
        return self.message

    def as_validation_error(self) -> ValidationError:
        """The same refusal as a form error (code and lazy message kept)."""
        return ValidationError(self.template, code=self.code, params=self.params or None)


class FileRefused(UploadRefused):
    """An upload's refusal that names the file, for a form taking several files in several
    places at once: the person sees which one to change. ``slot`` says which place of the
    form it came from (an action's own name for it, such as a document kind)."""

    def __init__(self, refused: UploadRefused, file_name: str, slot: str = "") -> None:
        # The reason stays lazy as well, so both come out in the language where shown.
        reason = lazy(lambda: refused.message, str)()
        super().__init__(refused.code, _("“%(file)s” is not accepted: %(reason)s"),
                         {"file": shown_name(file_name), "reason": reason})
        self.refused, self.slot = refused, slot


def check_named(uploaded: UploadedFile[bytes], slot: str = "") -> CheckedUpload:
    """check_upload, its refusal naming the file (FileRefused)."""
    try:
        return check_upload(uploaded)
    except UploadRefused as refused:
        raise FileRefused(refused, uploaded.name or "", slot) from None


def shown_name(raw_name: str) -> str:
    """The uploader's own name of a file, to quote back to them in a message: without its
    directories and invisible characters, and not too long."""
    name = re.split(r"[/\\]", raw_name or "")[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in {"Cc", "Cf", "Cs"})
    name = _WHITESPACE.sub(" ", name).strip()
    return (name[:NAME_MAX_CHARS - 1] + "…") if len(name) > NAME_MAX_CHARS else name


@dataclass(frozen=True)
class CheckedUpload:
    name: str
    content_type: str
    size: int
    sha256: str


def check_upload(uploaded: UploadedFile[bytes], *, max_bytes: int | None = None) -> CheckedUpload:
    """Read the whole file once (hashing it), decide its type by content, clean its name.

    Raises UploadRefused. The file is rewound afterwards, refused or not, so it can be saved.
    """
    limit = max_bytes if max_bytes is not None else _configured_max_bytes()
    try:
        if uploaded.size is not None and uploaded.size > limit:
            raise _too_large(uploaded.size, limit)
        digest = hashlib.sha256()
        head = b""
        size = 0
        for chunk in uploaded.chunks():
            size += len(chunk)
            if size > limit:
                raise _too_large(max(size, uploaded.size or 0), limit)
            digest.update(chunk)
            if len(head) <= TEXT_SNIFF_BYTES:
                head += chunk[: TEXT_SNIFF_BYTES + 1 - len(head)]
        if size == 0:
            raise UploadRefused("empty", _("The file is empty."))
        content_type = detect_type(head)
    finally:
        uploaded.seek(0)
    return CheckedUpload(
        name=sanitise_name(uploaded.name, ALLOWED_TYPES[content_type]),
        content_type=content_type,
        size=size,
        sha256=digest.hexdigest(),
    )


def detect_type(head: bytes) -> str:
    """The content type of a file from its beginning, or UploadRefused.

    ``head`` is the first TEXT_SNIFF_BYTES + 1 bytes, or the whole file when it is shorter:
    the one byte past the window tells that the file goes on, so a character cut by the edge
    is not taken for broken UTF-8.
    """
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    text = _utf8_prefix(head)
    if text is None or _TEXT_CONTROL.search(text):
        raise UploadRefused("type_not_allowed", _(
            "This type of file is not accepted. Please upload a PDF, a PNG, JPEG or WebP "
            "image, or a plain text file (UTF-8)."
        ))
    if _is_markup(text):
        raise UploadRefused("type_not_allowed", _(
            "Web pages, SVG and XML files are not accepted. Please upload a PDF, a PNG, JPEG "
            "or WebP image, or a plain text file (UTF-8)."
        ))
    return "text/plain"


def sanitise_name(raw_name: str | None, extension: str) -> str:
    """A file name safe to store and to offer for download, ending in ``extension``.

    Keeps what the uploader can recognise (letters of any script, digits, punctuation) and
    drops the rest: directories, control and invisible format characters (such as the
    right-to-left override that makes ``gpj.exe`` look like ``exe.jpg``), characters that
    common file systems refuse, leading dots, and the uploader's own extension.
    """
    name = re.split(r"[/\\]", raw_name or "")[-1]
    name = unicodedata.normalize("NFC", name)
    name = _WHITESPACE.sub(" ", name)
    name = "".join(c for c in name if unicodedata.category(c) not in {"Cc", "Cf", "Cs"})
    name = _ILLEGAL_IN_NAMES.sub("", name)
    name = _WHITESPACE.sub(" ", name).strip(" .")
    stem = _EXTENSION.sub("", name).rstrip(" .")
    if stem.split(".")[0].strip().upper() in _WINDOWS_DEVICES:
        stem = "_" + stem
    stem = _truncate(stem, NAME_MAX_CHARS - len(extension), NAME_MAX_BYTES - len(extension))
    return (stem or FALLBACK_STEM) + extension


def storage_name(case_key: str, checked: CheckedUpload) -> str:
    """Where the document goes under MEDIA_ROOT: unique by a random id, readable by its name.

    ``case_key`` must come from us (a primary key or tracking number), never from the request.
    """
    if not _CASE_KEY.fullmatch(case_key):
        raise ValueError(f"not a usable case key for a storage path: {case_key!r}")
    return f"cases/{case_key}/{uuid.uuid4().hex}-{checked.name}"


def _configured_max_bytes() -> int:
    return int(getattr(settings, "REFUNDDESK_UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES))


def _too_large(size: int, limit: int) -> UploadRefused:
    return UploadRefused(
        "too_large",
        _("The file is %(size)s MB; files up to %(limit)s MB are accepted."),
        # Size rounded up and limit rounded down, so a refused file never looks within limit.
        {"size": _megabytes(size, ROUND_CEILING), "limit": _megabytes(limit, ROUND_FLOOR)},
    )


def _megabytes(count: int, rounding: str) -> str:
    value = (Decimal(count) / _MEGABYTE).quantize(Decimal("0.1"), rounding=rounding)
    return f"{value:f}".removesuffix(".0")


def _utf8_prefix(head: bytes) -> str | None:
    """The text of the sniffing window, or None when it is not UTF-8.

    When the file goes on past the window, a character cut by the window's edge is left out
    rather than taken for a broken one; everything before it must be valid.
    """
    is_whole_file = len(head) <= TEXT_SNIFF_BYTES
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        return decoder.decode(head[:TEXT_SNIFF_BYTES], final=is_whole_file)
    except UnicodeDecodeError:
        return None


def _is_markup(text: str) -> bool:
    lowered = text.lstrip("\ufeff").strip().lower()
    return bool(_MARKUP_START.match(lowered)) or _SCRIPT_TAG in lowered


def _truncate(stem: str, max_chars: int, max_bytes: int) -> str:
    stem = stem[:max_chars]
    while len(stem.encode("utf-8")) > max_bytes:
        stem = stem[:-1]
    return stem.rstrip(" .")
