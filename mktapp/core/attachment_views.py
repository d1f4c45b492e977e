"""Attachments: download (only for who may see the record), upload, archive."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from mktapp.core import attachments as att
from mktapp.core.forms import AppForm
from mktapp.core.htmx import _toasts_html, is_htmx, redirect_to
from mktapp.core.permissions import get_visible_or_404, require
from mktapp.core.views import safe_next
from mktapp.extensions import db
from mktapp.models import Attachment

bp = Blueprint("attachments", __name__, url_prefix="/attachments")


class UploadForm(AppForm):
    """The attachment panel's upload form."""

    file = att.AttachmentField(required=True)


@bp.app_template_global("record_attachments")
def record_attachments(record):
    """The files of a record, for the attachment panel (Jinja global)."""
    return att.attachments_for(record)


@bp.app_template_global("attachment_accept")
def attachment_accept() -> str:
    return att.ACCEPT_ATTR


@bp.app_template_global("upload_hint")
def upload_hint() -> str:
    return att.upload_hint()


bp.add_app_template_filter(att.filesize, "filesize")


def _record_or_404(record_type: str, record_id: int):
    entry = att.attachable(record_type)
    if entry is None:
        abort(404)
    return get_visible_or_404(entry.model, record_id, current_user)


def _panel(record, error: str | None = None, status: int = 200):
    """The attachment panel of one record, alone (answers htmx uploads and archives)."""
    html = render_template(
        "core/attachment_panel.html",
        record=record,
        can_edit=att.can_edit_attachments(current_user, record),
        error=error,
        back=_next_url(),
    )
    return html + _toasts_html(), status, {"Vary": "HX-Request"}


def _next_url() -> str:
    """Where a plain POST goes back to: the form's "next", else the referring page."""
    try:
        target = request.form.get("next")
    except RequestEntityTooLarge:  # the body was refused unread
        target = None
    return safe_next(target or request.referrer)


def _back(record):
    return redirect_to(_next_url())


def _readable(attachment_id: int) -> Attachment:
    """The attachment, if it is kept and the user may see the record it is attached to (404)."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.archived_at is not None:
        abort(404)
    if att.record_of(attachment, current_user) is None:
        abort(404)
    return attachment


def _private(response: Response) -> Response:
    """A stored file as sent: never sniffed nor run, revalidated before each use."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/<int:attachment_id>")
@require()
def download(attachment_id: int):
    """Download a file, if the user may see the record it is attached to."""
    attachment = _readable(attachment_id)
    path = att.file_path(attachment)
    if not path.is_file():
        abort(404)
    response = send_file(
        path,
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.filename,
        conditional=True,
        etag=attachment.sha256,
        max_age=0,
    )
    return _private(response)


@bp.get("/<int:attachment_id>/preview.png")
@require()
def preview(attachment_id: int):
    """The first page of a PDF attachment as a picture, for who may see its record."""
    attachment = _readable(attachment_id)
    path = att.pdf_preview(attachment)
    if path is None:
        abort(404)
    response = send_file(
        path, mimetype="image/png", conditional=True, etag=attachment.sha256 + "-p1", max_age=0
    )
    return _private(response)


@bp.app_template_global("receipt_preview")
def receipt_preview(attachment) -> str | None:
    """What a file's thumbnail shows: the picture itself, the first page of a PDF, or
    nothing (None: the page shows a file icon). Renders a PDF's page once, then cached."""
    if att.is_image(attachment):
        return url_for("attachments.download", attachment_id=attachment.id)
    if att.pdf_preview(attachment) is not None:
        return url_for("attachments.preview", attachment_id=attachment.id)
    return None


@bp.post("/<record_type>/<int:record_id>")
@require()
def upload(record_type: str, record_id: int):
    """Attach an uploaded file to a record (for users who may change the record's files)."""
    record = _record_or_404(record_type, record_id)
    if not att.can_edit_attachments(current_user, record):
        abort(403)
    form = UploadForm()
    if not form.validate_on_submit():
        error = " ".join(form.file.errors) or " ".join(
            e for errors in form.errors.values() for e in errors
        )
        return _upload_failed(record, error)
    try:
        attachment = att.save_upload(form.file.data, record, current_user)
    except att.UploadRejected as rejected:
        db.session.rollback()
        return _upload_failed(record, rejected.message)
    db.session.commit()
    flash(_("“%(name)s” was attached.", name=attachment.filename), "success")
    if is_htmx():
        return _panel(record)
    return _back(record)


def _upload_failed(record, error: str, plain_status: int = 422):
    # htmx swaps 422 (not 413), so a fragment answer is always 422.
    if is_htmx():
        return _panel(record, error=error, status=422)
    return (
        render_template(
            "core/attachment_upload.html",
            record=record,
            can_edit=att.can_edit_attachments(current_user, record),
            error=error,
            back=_next_url(),
        ),
        plain_status,
    )


@bp.post("/<int:attachment_id>/archive")
@require()
def archive(attachment_id: int):
    """Take a file off its record's list (kept on disk and in the history)."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None:
        abort(404)
    record = att.record_of(attachment, current_user)
    if record is None:
        abort(404)
    try:
        att.archive_attachment(attachment, record, current_user)
    except att.NotAllowed:
        abort(403)
    db.session.commit()
    flash(_("“%(name)s” was archived.", name=attachment.filename), "success")
    if is_htmx():
        return _panel(record)
    return _back(record)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error):
    """A body over MAX_CONTENT_LENGTH: say so next to the file field, not only on an error page."""
    args = request.view_args or {}
    if request.endpoint == "attachments.upload" and current_user.is_authenticated:
        entry = att.attachable(args.get("record_type", ""))
        if entry is not None:
            record = get_visible_or_404(entry.model, args.get("record_id"), current_user)
            return _upload_failed(record, att.too_large_message(), plain_status=413)
    return (
        render_template(
            "errors/error.html",
            status=413,
            title=_("File too large"),
            message=att.too_large_message(),
        ),
        413,
    )


def register(app) -> None:
    """Its blueprint."""
    app.register_blueprint(bp)
