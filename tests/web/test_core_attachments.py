"""Attachments: allowed by content, stored safely, served only to who may see the record."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from flask import render_template_string
from flask_login import login_user
from flask_wtf import FlaskForm
from PIL import Image
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict

from mktapp.core import attachments as att
from mktapp.core import audit
from mktapp.extensions import db
from mktapp.models import Attachment, AuditLog, TrainingRecord, User

# --- sample files, made here ------------------------------------------------------


def _image(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


def _pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


def _ooxml(part: str, main_type: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            f'content-types"><Override PartName="/{part}" ContentType="{main_type}"/></Types>',
        )
        z.writestr("_rels/.rels", "<Relationships/>")
        z.writestr(part, "<doc/>")
    return out.getvalue()


def _xlsx() -> bytes:
    from openpyxl import Workbook

    out = io.BytesIO()
    book = Workbook()
    book.active["A1"] = "销售额"
    book.save(out)
    return out.getvalue()


def _ole2(stream_name: str) -> bytes:
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    entry = stream_name.encode("utf-16-le") + b"\x00\x00"
    return header + entry.ljust(128, b"\x00") + b"\x00" * 1024


OOXML_WORD = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
OOXML_PPT = "application/vnd.openxmlformats-officedocument.presentationml.presentation"

ACCEPTED = {
    "report.pdf": (_pdf(), "application/pdf"),
    "photo.png": (_image("PNG"), "image/png"),
    "photo.jpg": (_image("JPEG"), "image/jpeg"),
    "anim.gif": (_image("GIF"), "image/gif"),
    "photo.webp": (_image("WEBP"), "image/webp"),
    "letter.docx": (_ooxml("word/document.xml", OOXML_WORD + ".main+xml"), OOXML_WORD),
    "sheet.xlsx": (_xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "deck.pptx": (_ooxml("ppt/presentation.xml", OOXML_PPT + ".main+xml"), OOXML_PPT),
    "old.doc": (_ole2("WordDocument"), "application/msword"),
    "old.xls": (_ole2("Workbook"), "application/vnd.ms-excel"),
    "old.ppt": (_ole2("PowerPoint Document"), "application/vnd.ms-powerpoint"),
}

REFUSED = {
    "exe": b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200,
    "html": b"<!doctype html><html><script>alert(1)</script></html>",
    "svg": b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script/></svg>',
    "plain zip": _ooxml("other/thing.xml", "application/zip"),
    "macro word": _ooxml(
        "word/document.xml", "application/vnd.ms-word.document.macroEnabled.main+xml"
    ),
    "other ole2": _ole2("Something"),
    "text": "只是文本".encode(),
}


# --- fixtures ------------------------------------------------------------------


@pytest.fixture
def attachable_training(app):
    """TrainingRecord made attachable for these tests only: its trainee may change files."""
    previous = att.attachable("TrainingRecord")
    att.register_attachable(TrainingRecord, can_edit=lambda user, rec: rec.owner_id == user.id)
    yield
    att.unregister_attachable(TrainingRecord)
    if previous is not None:  # the training chapter's own registration
        att.register_attachable(TrainingRecord, can_edit=previous.can_edit)


@pytest.fixture
def record(app, demo, attachable_training):
    with app.app_context():
        rec = TrainingRecord(
            owner_id=demo["sales1"], course="产品知识", taken_on=date(2024, 4, 1), hours=Decimal(4)
        )
        db.session.add(rec)
        db.session.commit()
        return rec.id


def _upload(client, record_id, name, content, htmx=True, **kw):
    return client.post(
        f"/attachments/TrainingRecord/{record_id}",
        data={"file": (io.BytesIO(content), name)},
        htmx=htmx,
        content_type="multipart/form-data",
        **kw,
    )


def _attachments(app) -> list[Attachment]:
    with app.app_context():
        return list(db.session.scalars(select(Attachment).order_by(Attachment.id)))


# --- by content -------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_each_allowed_type_is_recognised_by_its_content(name):
    content, content_type = ACCEPTED[name]
    assert att.detect_type(io.BytesIO(content)) == content_type


@pytest.mark.parametrize("kind", sorted(REFUSED))
def test_other_content_is_refused_whatever_its_name(kind):
    assert att.detect_type(io.BytesIO(REFUSED[kind])) is None


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_owner_uploads_each_allowed_type(app, login, record, name):
    content, content_type = ACCEPTED[name]
    response = _upload(login("sales1"), record, name, content)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    [stored] = _attachments(app)
    assert stored.content_type == content_type and stored.filename == name
    assert stored.size == len(content)
    path = Path(app.config["UPLOAD_FOLDER"]) / stored.stored_name
    assert path.read_bytes() == content
    assert name not in stored.stored_name and len(stored.stored_name) == 40
    import hashlib

    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert "static" not in str(path)


@pytest.mark.parametrize("kind", ["exe", "html", "svg", "macro word", "text"])
def test_a_pdf_name_with_other_content_is_refused_with_a_message(app, login, record, kind):
    response = _upload(login("sales1"), record, "发票.pdf", REFUSED[kind])
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in html and 'role="alert"' in html
    assert "PDF" in html
    assert _attachments(app) == []
    assert list(Path(app.config["UPLOAD_FOLDER"]).glob("*")) == [] or all(
        p.name not in {a.stored_name for a in _attachments(app)}
        for p in Path(app.config["UPLOAD_FOLDER"]).glob("*")
    )


def test_an_svg_named_png_is_refused(app, login, record):
    assert _upload(login("sales1"), record, "logo.png", REFUSED["svg"]).status_code == 422


def test_empty_or_missing_file_is_refused(app, login, record):
    client = login("sales1")
    assert _upload(client, record, "empty.pdf", b"").status_code == 422
    missing = client.post(f"/attachments/TrainingRecord/{record}", data={}, htmx=True)
    assert missing.status_code == 422
    assert _attachments(app) == []


def test_a_name_that_lies_about_the_type_gets_the_right_extension(app, login, record):
    _upload(login("sales1"), record, "../../etc/报告.exe", _pdf())
    [stored] = _attachments(app)
    assert stored.filename == "报告.exe.pdf"


@pytest.fixture
def small_limit(app):
    saved = app.config["MAX_UPLOAD_MB"], app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_UPLOAD_MB"] = 1
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024
    yield
    app.config["MAX_UPLOAD_MB"], app.config["MAX_CONTENT_LENGTH"] = saved


def test_a_file_over_the_limit_is_refused_with_a_clear_message(app, login, record, small_limit):
    big = _pdf() + b"0" * (1024 * 1024 + 10)
    response = _upload(login("sales1"), record, "big.pdf", big)
    assert response.status_code == 422
    assert "1 MB" in response.get_data(as_text=True)
    assert _attachments(app) == []


def test_a_body_over_the_server_limit_still_explains_itself(app, login, record, small_limit):
    huge = _pdf() + b"0" * (3 * 1024 * 1024)
    client = login("sales1")
    with_htmx = _upload(client, record, "huge.pdf", huge)
    assert with_htmx.status_code == 422
    assert "1 MB" in with_htmx.get_data(as_text=True)
    plain = _upload(client, record, "huge.pdf", huge, htmx=False)
    assert plain.status_code == 413
    assert "1 MB" in plain.get_data(as_text=True)
    assert _attachments(app) == []


def test_upload_without_htmx_goes_back_to_the_page(app, login, record):
    response = _upload(
        login("sales1"), record, "a.pdf", _pdf(), htmx=False, headers={"Referer": "/org/"}
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("/org/")
    failed = _upload(login("sales1"), record, "a.pdf", b"nope", htmx=False)
    assert failed.status_code == 422
    assert "<html" in failed.get_data(as_text=True)


def test_upload_without_csrf_is_refused(app, login, record):
    client = login("sales1")
    response = client.post(
        f"/attachments/TrainingRecord/{record}",
        data={"file": (io.BytesIO(_pdf()), "a.pdf")},
        csrf=False,
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert _attachments(app) == []


def test_only_users_the_record_allows_may_upload(app, login, record):
    # sales3 leads the sales group and sees the record, but it is not theirs to change.
    assert _upload(login("sales3"), record, "a.pdf", _pdf()).status_code == 403
    # sales2 does not even see it.
    assert _upload(login("sales2"), record, "a.pdf", _pdf()).status_code == 404
    assert _upload(login("sales1"), 99999, "a.pdf", _pdf()).status_code == 404
    client = login("sales1")
    assert client.post("/attachments/Nothing/1", data={}).status_code == 404
    assert _attachments(app) == []


# --- download ---------------------------------------------------------------------


def _one_upload(app, login, record, name="结业证书.pdf", content=None) -> int:
    response = _upload(login("sales1"), record, name, content or _pdf())
    assert response.status_code == 200
    return _attachments(app)[-1].id


def test_download_is_an_attachment_with_utf8_name_and_nosniff(app, login, record):
    attachment_id = _one_upload(app, login, record)
    response = login("sales1").get(f"/attachments/{attachment_id}")
    assert response.status_code == 200
    assert response.data == _pdf()
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert "filename*=UTF-8''%E7%BB%93%E4%B8%9A%E8%AF%81%E4%B9%A6.pdf" in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Type"] == "application/pdf"
    assert "sandbox" in response.headers["Content-Security-Policy"]


def test_manager_and_group_leader_may_download_others_may_not(app, login, record):
    attachment_id = _one_upload(app, login, record)
    assert login("manager").get(f"/attachments/{attachment_id}").status_code == 200
    assert login("sales3").get(f"/attachments/{attachment_id}").status_code == 200
    assert login("sales2").get(f"/attachments/{attachment_id}").status_code == 404
    assert login("service2").get(f"/attachments/{attachment_id}").status_code == 404
    assert login("sales1").get("/attachments/424242").status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(app, client, login, record):
    attachment_id = _one_upload(app, login, record)
    response = client.get(f"/attachments/{attachment_id}")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_files_of_a_type_nobody_registered_are_not_served(app, login, record):
    attachment_id = _one_upload(app, login, record)
    previous = att.attachable("TrainingRecord")
    att.unregister_attachable(TrainingRecord)
    try:
        assert login("sales1").get(f"/attachments/{attachment_id}").status_code == 404
    finally:
        att.register_attachable(TrainingRecord, can_edit=previous.can_edit)


# --- archive and history ------------------------------------------------------------


def test_owner_archives_a_file_and_the_history_says_so(app, login, record):
    attachment_id = _one_upload(app, login, record, name="旧证书.pdf")
    assert (
        login("sales3").post(f"/attachments/{attachment_id}/archive", htmx=True).status_code == 403
    )
    assert (
        login("sales2").post(f"/attachments/{attachment_id}/archive", htmx=True).status_code == 404
    )
    client = login("sales1")
    response = client.post(f"/attachments/{attachment_id}/archive", htmx=True)
    assert response.status_code == 200
    assert "旧证书.pdf" in response.get_data(as_text=True)  # in the toast
    assert 'class="attachment-name"' not in response.get_data(as_text=True)
    assert client.get(f"/attachments/{attachment_id}").status_code == 404
    with app.app_context():
        stored = db.session.get(Attachment, attachment_id)
        assert stored.archived_at is not None
        assert (Path(app.config["UPLOAD_FOLDER"]) / stored.stored_name).exists()
        actions = list(
            db.session.scalars(
                select(AuditLog.action)
                .where(AuditLog.record_type == "TrainingRecord", AuditLog.record_id == record)
                .order_by(AuditLog.id)
            )
        )
    assert actions == ["insert", "attach", "detach"]


def test_attachment_panel_lists_files_and_offers_upload_only_to_editors(app, login, record, demo):
    attachment_id = _one_upload(app, login, record, name="证书.pdf")
    template = (
        '{% from "_macros/attachments.html" import attachment_panel %}'
        "{{ attachment_panel(record, can_edit) }}"
    )
    with app.test_request_context("/org/"):
        login_user(db.session.get(User, demo["sales1"]))
        rec = db.session.get(TrainingRecord, record)
        editable = render_template_string(template, record=rec, can_edit=True)
        readonly = render_template_string(template, record=rec, can_edit=False)
    assert "证书.pdf" in editable and f'href="/attachments/{attachment_id}"' in editable
    assert (
        'enctype="multipart/form-data"' in editable
        and 'hx-encoding="multipart/form-data"' in editable
    )
    assert "<progress" in editable and "/archive" in editable
    assert 'name="csrf_token"' in editable
    assert "证书.pdf" in readonly
    assert "<form" not in readonly


# --- the form field for chapter forms ------------------------------------------------


class ReceiptForm(FlaskForm):
    class Meta:
        csrf = False

    receipt = att.AttachmentField("Receipt", required=True)
    optional = att.AttachmentField("Extra")


def _form(app, files: dict) -> ReceiptForm:
    data = MultiDict({k: FileStorage(io.BytesIO(v[1]), filename=v[0]) for k, v in files.items()})
    with app.test_request_context(method="POST"):
        form = ReceiptForm(formdata=data)
        form.validate()
        return form


def test_attachment_field_validates_like_any_other_field(app):
    missing = _form(app, {})
    assert missing.receipt.errors and not missing.optional.errors
    wrong = _form(app, {"receipt": ("r.pdf", REFUSED["html"])})
    assert wrong.receipt.errors and "PDF" in wrong.receipt.errors[0]
    good = _form(app, {"receipt": ("r.pdf", _pdf()), "optional": ("x.png", _image("PNG"))})
    assert not good.errors
    assert good.receipt.content_type == "application/pdf"


def test_attachment_field_renders_with_its_error_next_to_it(app):
    with app.test_request_context(method="POST"):
        form = ReceiptForm(formdata=MultiDict({}))
        form.validate()
        html = render_template_string(
            '{% from "_macros/forms.html" import field %}{{ field(form.receipt) }}', form=form
        )
    assert 'aria-invalid="true"' in html and 'id="receipt-error"' in html
    assert 'accept=".pdf' in html and "20 MB" in html


def test_save_upload_attaches_to_a_record_and_logs_it(app, demo, attachable_training):
    with app.test_request_context(), audit.acting_as(demo["sales1"]):
        rec = TrainingRecord(
            owner_id=demo["sales1"], course="安全培训", taken_on=date(2024, 1, 2), hours=Decimal(2)
        )
        db.session.add(rec)
        user = db.session.get(User, demo["sales1"])
        stored = att.save_upload(FileStorage(io.BytesIO(_pdf()), filename="证.pdf"), rec, user)
        db.session.commit()
        assert att.attachments_for(rec) == [stored]
        assert stored.uploaded_by_id == demo["sales1"]
        with pytest.raises(att.UploadRejected):
            att.save_upload(FileStorage(io.BytesIO(b"<html>"), filename="x.pdf"), rec, user)
        with pytest.raises(TypeError):
            att.save_upload(FileStorage(io.BytesIO(_pdf()), filename="x.pdf"), user, user)
