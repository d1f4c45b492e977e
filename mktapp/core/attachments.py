"""Files attached to any record: checked by content, stored under random names, served checked.

A chapter makes a model attachable once, at import time of its routes:

    register_attachable(ExpenseClaim, can_edit=lambda user, claim: claim.owner_id == user.id)

then shows `attachment_panel(record, can_edit)` (templates/_macros/attachments.html)
on the record's page, or takes a file in its own form with `AttachmentField`
and stores it with `save_upload(form.receipt.data, record, user)`.

Files live in UPLOAD_FOLDER (outside static/) under random names; the type is
decided by the bytes, not the name: PDF, PNG, JPEG, GIF, WebP, Office
documents (docx/xlsx/pptx and the legacy doc/xls/ppt). SVG, HTML and anything
else are refused. Downloads go through the attachments blueprint, which shows a
file only to users who may see the record it is attached to.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import filetype
from flask import current_app
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms.validators import StopValidation, ValidationError

from mktapp.core import audit
from mktapp.core.errors import DomainError
from mktapp.core.permissions import sees_all_records, visible
from mktapp.extensions import db
from mktapp.models import Attachment, utcnow

CHUNK = 64 * 1024


class AttachmentError(DomainError):
    """Something a user did with a file that cannot be done; str() is the message."""


class UploadRejected(AttachmentError):
    """The file was not stored: too large, empty, or of a type not allowed."""


class NotAllowed(AttachmentError):
    """The user may not change this record's files."""


# --- which records take files ------------------------------------------------------


def _default_can_edit(user: Any, record: Any) -> bool:
    return getattr(record, "owner_id", None) == user.id or sees_all_records(user)


@dataclass(frozen=True)
class Attachable:
    model: type
    can_edit: Callable[[Any, Any], bool]

    @property
    def name(self) -> str:
        return self.model.__name__


_registry: dict[str, Attachable] = {}


def register_attachable(model: type, can_edit: Callable[[Any, Any], bool] | None = None) -> None:
    """Let files be attached to records of `model`.

    `can_edit(user, record) -> bool` says who may add and archive files; the
    default is the record's owner and those who see all records. Who may
    download is decided by the model's record rules (get_visible_or_404).
    """
    _registry[model.__name__] = Attachable(model, can_edit or _default_can_edit)


def unregister_attachable(model: type) -> None:
    """Take a model out of the registry (tests register throwaway attachables)."""
    _registry.pop(model.__name__, None)


def attachable(record_type: str) -> Attachable | None:
    return _registry.get(record_type)


def can_edit_attachments(user: Any, record: Any) -> bool:
    entry = _registry.get(type(record).__name__)
    return bool(entry and user is not None and entry.can_edit(user, record))


# --- what a file is, by its bytes ----------------------------------------------------

# content type -> (readable kind, extensions a download may carry)
ALLOWED_TYPES: dict[str, tuple[Any, tuple[str, ...]]] = {
    "application/pdf": (_l("PDF"), (".pdf",)),
    "image/png": (_l("PNG image"), (".png",)),
    "image/jpeg": (_l("JPEG image"), (".jpg", ".jpeg")),
    "image/gif": (_l("GIF image"), (".gif",)),
    "image/webp": (_l("WebP image"), (".webp",)),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (
        _l("Word document"),
        (".docx",),
    ),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (
        _l("Excel workbook"),
        (".xlsx",),
    ),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (
        _l("PowerPoint presentation"),
        (".pptx",),
    ),
    "application/msword": (_l("Word document"), (".doc",)),
    "application/vnd.ms-excel": (_l("Excel workbook"), (".xls",)),
    "application/vnd.ms-powerpoint": (_l("PowerPoint presentation"), (".ppt",)),
}

ACCEPT_ATTR = ",".join(ext for _kind, exts in ALLOWED_TYPES.values() for ext in exts)

# The main part of an Office Open XML package: (part name, its content type, our type).
_OOXML = (
    (
        "word/document.xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    (
        "xl/workbook.xml",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    (
        "ppt/presentation.xml",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
)
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Directory entry names (UTF-16LE) of the main stream of each legacy Office format.
_OLE2_STREAMS = (
    ("WordDocument".encode("utf-16-le"), "application/msword"),
    ("Workbook".encode("utf-16-le"), "application/vnd.ms-excel"),
    ("Book".encode("utf-16-le") + b"\x00\x00", "application/vnd.ms-excel"),
    ("PowerPoint Document".encode("utf-16-le"), "application/vnd.ms-powerpoint"),
)
_IMAGE_AND_PDF = {"application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp"}


def _ooxml_type(stream: IO[bytes]) -> str | None:
    try:
        with zipfile.ZipFile(stream) as package:
            names = set(package.namelist())
            if "[Content_Types].xml" not in names:
                return None
            info = package.getinfo("[Content_Types].xml")
            if info.file_size > 1024 * 1024:  # a real one is a few KB; refuse zip bombs
                return None
            types = package.read(info).decode("utf-8", "replace")
            for part, main_type, ours in _OOXML:
                if part in names and main_type in types:
                    return ours
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, RuntimeError):
        return None
    return None


def _ole2_type(stream: IO[bytes]) -> str | None:
    stream.seek(0)
    data = stream.read()
    for name, ours in _OLE2_STREAMS:
        if name in data:
            return ours
    return None


def detect_type(stream: IO[bytes]) -> str | None:
    """The allowed content type of a file by its bytes, or None. Leaves the stream at 0."""
    stream.seek(0)
    head = stream.read(8192)
    stream.seek(0)
    try:
        if head.startswith(b"%PDF-"):
            return "application/pdf"
        if head.startswith(b"PK\x03\x04"):
            return _ooxml_type(stream)
        if head.startswith(_OLE2_MAGIC):
            return _ole2_type(stream)
        kind = filetype.guess(head)
        if kind is not None and kind.mime in _IMAGE_AND_PDF:
            return kind.mime
        return None
    finally:
        stream.seek(0)


def max_upload_bytes() -> int:
    return int(current_app.config.get("MAX_UPLOAD_MB", 20)) * 1024 * 1024


def too_large_message() -> str:
    return _(
        "The file is larger than %(mb)s MB. Make it smaller or split it, then try again.",
        mb=current_app.config.get("MAX_UPLOAD_MB", 20),
    )


def upload_hint() -> str:
    return _(
        "PDF, images (PNG, JPEG, GIF, WebP) or Office documents, up to %(mb)s MB.",
        mb=current_app.config.get("MAX_UPLOAD_MB", 20),
    )


def not_allowed_message() -> str:
    return _(
        "This kind of file cannot be attached. Allowed: PDF, images (PNG, JPEG, GIF, WebP) "
        "and Office documents (Word, Excel, PowerPoint)."
    )


def _stream_size(stream: IO[bytes]) -> int:
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


def check_upload(file_storage: Any) -> str:
    """Check an uploaded file's size and type; returns its content type or raises UploadRejected."""
    if file_storage is None or not getattr(file_storage, "filename", ""):
        raise UploadRejected(_("Choose a file to upload."))
    stream = file_storage.stream
    size = _stream_size(stream)
    if size == 0:
        raise UploadRejected(_("The file is empty."))
    if size > max_upload_bytes():
        raise UploadRejected(too_large_message())
    content_type = detect_type(stream)
    if content_type is None:
        raise UploadRejected(not_allowed_message())
    return content_type


def clean_filename(name: str, content_type: str) -> str:
    """The name to show and download under: no path, no control characters, the right extension."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    extensions = ALLOWED_TYPES[content_type][1]
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    if not stem:
        stem = "file"
    if f".{ext.lower()}" not in extensions:
        # The name must not promise another type than the bytes are.
        ext = extensions[0][1:]
        stem = name or stem
    return f"{stem[: 250 - len(ext)]}.{ext.lower()}"


def upload_folder() -> Path:
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def file_path(attachment: Attachment) -> Path:
    return upload_folder() / attachment.stored_name


def save_upload(file_storage: Any, record: Any, user: Any) -> Attachment:
    """Store an uploaded file and attach it to `record`; raises UploadRejected.

    Adds the Attachment to the session (the caller commits) and notes it in
    the record's audit history.
    """
    if type(record).__name__ not in _registry:
        raise TypeError(f"{type(record).__name__} is not attachable; call register_attachable")
    content_type = check_upload(file_storage)
    stored_name = secrets.token_hex(20)
    target = upload_folder() / stored_name
    digest = hashlib.sha256()
    size = 0
    stream = file_storage.stream
    stream.seek(0)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    with os.fdopen(fd, "wb") as out:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > max_upload_bytes():
                out.close()
                target.unlink(missing_ok=True)
                raise UploadRejected(too_large_message())
            digest.update(chunk)
            out.write(chunk)
    if record.id is None:
        db.session.flush()
    attachment = Attachment(
        record_type=type(record).__name__,
        record_id=record.id,
        filename=clean_filename(file_storage.filename, content_type),
        stored_name=stored_name,
        content_type=content_type,
        size=size,
        sha256=digest.hexdigest(),
        uploaded_by_id=getattr(user, "id", None),
        uploaded_at=utcnow(),
    )
    db.session.add(attachment)
    audit.log(record, "attach", {"filename": [None, attachment.filename]})
    return attachment


def attachments_for(record: Any, include_archived: bool = False) -> list[Attachment]:
    """The files attached to a record, oldest first (uploaders loaded with them)."""
    if record is None or getattr(record, "id", None) is None:
        return []
    query = (
        select(Attachment)
        .options(joinedload(Attachment.uploaded_by).lazyload("*"))
        .where(Attachment.record_type == type(record).__name__, Attachment.record_id == record.id)
        .order_by(Attachment.uploaded_at, Attachment.id)
    )
    if not include_archived:
        query = query.where(Attachment.archived_at.is_(None))
    return list(db.session.scalars(query))


def record_of(attachment: Attachment, user: Any) -> Any | None:
    """The record a file is attached to, if this user may see it (else None)."""

    entry = _registry.get(attachment.record_type)
    if entry is None:
        return None
    model = entry.model
    return db.session.scalars(
        visible(select(model).where(model.id == attachment.record_id), user, model)
    ).first()


def archive_attachment(attachment: Attachment, record: Any, user: Any) -> None:
    """Take a file off a record's list (it is kept, and the record's history says so)."""
    if not can_edit_attachments(user, record):
        raise NotAllowed(_("You may not change the files of this record."))
    if attachment.archived_at is None:
        attachment.archived_at = utcnow()
        audit.log(record, "detach", {"filename": [attachment.filename, None]})


# --- previews: a thumbnail of a picture, the first page of a PDF ----------------------

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
PREVIEW_WIDTH = 480  # pixels; CSS shows it smaller, sharp on high-density screens
_pdfium_lock = threading.Lock()  # PDFium is not thread-safe (gunicorn runs threads)


def is_image(attachment: Attachment) -> bool:
    """A picture the browser shows as it is (<img> of the download)."""
    return attachment.content_type in IMAGE_TYPES


def preview_file(attachment: Attachment) -> Path:
    """Where a PDF's first-page picture is cached: next to the upload."""
    return upload_folder() / f"{attachment.stored_name}.page1.png"


def pdf_preview(attachment: Attachment) -> Path | None:
    """The first page of a PDF attachment as a PNG, rendered once and cached on disk.

    None when it cannot be had: not a PDF, the file is missing or unreadable, or the
    renderer (pypdfium2) is not installed; the page then shows a file icon instead.
    """
    if attachment.content_type != "application/pdf":
        return None
    target = preview_file(attachment)
    if target.is_file():
        return target
    failed = target.with_suffix(".failed")
    source = file_path(attachment)
    if failed.exists() or not source.is_file():
        return None
    try:
        import pypdfium2 as pdfium  # noqa: PLC0415  (loads with the first PDF preview)
    except ImportError:  # pragma: no cover - a dependency; degrade if a site removed it
        return None
    partial = target.with_suffix(f".{secrets.token_hex(4)}.tmp")
    try:
        with _pdfium_lock:
            document = pdfium.PdfDocument(str(source))
            try:
                page = document[0]
                width = page.get_width() or PREVIEW_WIDTH
                image = page.render(scale=min(4.0, PREVIEW_WIDTH / width)).to_pil()
                page.close()
            finally:
                document.close()
        image.save(partial, "PNG", optimize=True)
        os.replace(partial, target)  # atomic: a reader never sees half a picture
    except Exception as error:  # a broken or encrypted PDF: remember, show an icon
        current_app.logger.info("No preview of attachment %s: %s", attachment.id, error)
        partial.unlink(missing_ok=True)
        failed.touch()
        return None
    return target


# --- forms -------------------------------------------------------------------


class AcceptedFile:
    """WTForms validator: the file is within the size limit and of an allowed type."""

    def __init__(self, required: bool = False):
        self.required = required
        self.field_flags = {"required": True} if required else {}

    def __call__(self, form, field):
        if not field.data:
            if self.required:
                raise StopValidation(_("Choose a file to upload."))
            field.errors[:] = []
            raise StopValidation()
        try:
            field.content_type = check_upload(field.data)
        except UploadRejected as error:
            raise ValidationError(error.message) from None


class AttachmentField(FileField):
    """A file input for chapter forms (a receipt, a certificate): checked like save_upload.

    `AttachmentField(_l("Receipt"), required=True)`; after validation, store
    it with save_upload(form.receipt.data, record, user).
    """

    def __init__(self, label=None, validators=None, required: bool = False, **kwargs):
        validators = [AcceptedFile(required=required), *(validators or [])]
        kwargs.setdefault("render_kw", {}).setdefault("accept", ACCEPT_ATTR)
        kwargs.setdefault("description", LazyString(upload_hint))
        super().__init__(label, validators, **kwargs)
        self.content_type: str | None = None


def filesize(value: int | None) -> str:
    """1234567 -> 1.2 MB (Jinja filter)."""
    if value is None:
        return ""
    size = float(value)
    for unit in ("B", "KB", "MB"):
        if size < 1024 or unit == "MB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"
