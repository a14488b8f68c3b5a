"""What may be attached to an idea: by size, by extension and by the file's first bytes."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from opencall.core.errors import InvalidInput

# extension → (content type, accepted leading bytes; empty = text, checked for NUL bytes)
ALLOWED: dict[str, tuple[str, tuple[bytes, ...]]] = {
    ".pdf": ("application/pdf", (b"%PDF",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (b"PK\x03\x04",)),
    ".pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", (b"PK\x03\x04",)),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
    ".txt": ("text/plain", ()),
    ".md": ("text/markdown", ()),
    ".csv": ("text/csv", ()),
}


def check_attachment(upload: UploadedFile[Any]) -> str:
    """Return the content type to store, or raise InvalidInput with a message for the person."""
    name = upload.name or ""
    ext = PurePath(name).suffix.lower()
    limit: int = settings.OPENCALL_MAX_ATTACHMENT_BYTES
    megabytes = limit // (1024 * 1024)
    if ext not in ALLOWED:
        raise InvalidInput(_("%(name)s: files of type %(ext)s are not allowed.") % {"name": name, "ext": ext or _("(none)")},
                           errors={"attachments": [_("Allowed: %(types)s.") % {"types": ", ".join(sorted(ALLOWED))}]})
    if upload.size is None or upload.size > limit:
        raise InvalidInput(_("%(name)s: the file is larger than %(mb)s MB.") % {"name": name, "mb": megabytes},
                           errors={"attachments": [_("At most %(mb)s MB per file.") % {"mb": megabytes}]})
    if upload.size == 0:
        raise InvalidInput(_("%(name)s: the file is empty.") % {"name": name},
                           errors={"attachments": [_("The file is empty.")]})
    content_type, magics = ALLOWED[ext]
    upload.seek(0)
    head = upload.read(2048)
    upload.seek(0)
    ok = any(head.startswith(m) for m in magics) if magics else b"\x00" not in head
    if not ok:
        raise InvalidInput(_("%(name)s: the content does not match a %(ext)s file.") % {"name": name, "ext": ext},
                           errors={"attachments": [_("The file's content does not match its type.")]})
    return content_type


def attachment_type(name: str) -> str:
    """The content type an attachment is sent as: decided by its (checked) extension, not by what
    was stored beside it, so a row written by older code cannot turn into HTML."""
    entry = ALLOWED.get(PurePath(name).suffix.lower())
    return entry[0] if entry else "application/octet-stream"
