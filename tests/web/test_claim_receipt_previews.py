"""Receipts on a claim's page: a picture shows as a thumbnail, a PDF as its first page
(rendered once, cached next to the upload), both only to who may see the claim; without
the renderer a PDF shows a file icon."""

from __future__ import annotations

import io
import re
import sys
from decimal import Decimal

from PIL import Image
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from mktapp.core import attachments as att
from mktapp.core import clock
from mktapp.demo.claims import tiny_pdf
from mktapp.expense import claims as svc
from mktapp.extensions import db
from mktapp.models import Attachment, User


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 60), (30, 90, 200)).save(out, format="PNG")
    return out.getvalue()


def claim_with(app, filename: str, data: bytes) -> tuple[int, int]:
    """A claim by sales1 with one receipt, submitted: (claim id, attachment id)."""
    with app.test_request_context():
        owner = db.session.scalar(select(User).where(User.username == "sales1"))
        claim = svc.create_claim(
            owner,
            svc.ClaimInput(
                category="customer",
                amount=Decimal("760.00"),
                incurred_on=clock.today(),
                reason="客户答谢餐费",
                payment_method="bank",
                over_budget_reason="客户集中拜访，已口头报备",
                receipts=[FileStorage(io.BytesIO(data), filename=filename, name="receipt")],
            ),
            clock.today(),
        )
        svc.submit_claim(owner, claim, clock.today())
        db.session.commit()
        attachment = db.session.scalar(
            select(Attachment).where(
                Attachment.record_type == "ExpenseClaim", Attachment.record_id == claim.id
            )
        )
        return claim.id, attachment.id


def cached_preview(app, attachment_id: int):
    with app.test_request_context():
        return att.preview_file(db.session.get(Attachment, attachment_id))


def test_an_image_receipt_shows_as_a_thumbnail_to_the_approver(app, login):
    claim_id, attachment_id = claim_with(app, "发票.png", png())
    page = login("sales3").get(f"/expense/claims/{claim_id}").get_data(as_text=True)
    thumb = re.search(r'<a href="([^"]+)"[^>]*class="receipt-thumb"><img src="([^"]+)"', page)
    assert thumb, "no thumbnail on the claim page"
    # The picture itself, through the permission-checked download.
    assert thumb.group(1) == thumb.group(2) == f"/attachments/{attachment_id}"
    assert 'alt="发票.png 的预览"' in page
    image = login("sales3").get(f"/attachments/{attachment_id}")
    assert image.status_code == 200 and image.mimetype == "image/png"


def test_a_pdf_receipt_shows_its_first_page_cached_next_to_the_upload(app, login):
    claim_id, attachment_id = claim_with(app, "发票.pdf", tiny_pdf("Invoice 2631 CNY 760.00"))
    cache = cached_preview(app, attachment_id)
    cache.unlink(missing_ok=True)
    finance = login("finance1")
    page = finance.get(f"/expense/claims/{claim_id}").get_data(as_text=True)
    assert f'<img src="/attachments/{attachment_id}/preview.png"' in page
    assert "预览为第一页" in page
    assert cache.is_file()
    with app.app_context():
        assert cache.parent == att.upload_folder()  # next to the upload
    response = finance.get(f"/attachments/{attachment_id}/preview.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    picture = Image.open(io.BytesIO(response.data))
    assert picture.width == att.PREVIEW_WIDTH and picture.height > 100
    # Rendered once: the cached file is what is served next time.
    stamp = cache.stat().st_mtime_ns
    assert finance.get(f"/attachments/{attachment_id}/preview.png").status_code == 200
    assert cache.stat().st_mtime_ns == stamp


def test_a_receipts_preview_is_only_for_who_may_see_the_claim(app, login):
    _claim_id, attachment_id = claim_with(app, "发票.pdf", tiny_pdf("Invoice 77"))
    assert login("sales2").get(f"/attachments/{attachment_id}/preview.png").status_code == 404
    assert login("finance1").get(f"/attachments/{attachment_id}/preview.png").status_code == 200
    _claim_id, picture_id = claim_with(app, "发票.png", png())
    # A picture has no rendered page: its thumbnail is the download itself.
    assert login("finance1").get(f"/attachments/{picture_id}/preview.png").status_code == 404


def test_without_the_pdf_renderer_a_pdf_receipt_shows_a_file_icon(app, login, monkeypatch):
    claim_id, attachment_id = claim_with(app, "发票.pdf", tiny_pdf("Invoice 88"))
    cached_preview(app, attachment_id).unlink(missing_ok=True)
    monkeypatch.setitem(sys.modules, "pypdfium2", None)  # import pypdfium2 -> ImportError
    finance = login("finance1")
    page = finance.get(f"/expense/claims/{claim_id}").get_data(as_text=True)
    assert f"/attachments/{attachment_id}/preview.png" not in page
    assert re.search(
        r'<span class="receipt-icon" role="img" aria-label="发票.pdf">PDF</span>', page
    )
    assert f'href="/attachments/{attachment_id}"' in page  # still downloadable
    assert finance.get(f"/attachments/{attachment_id}/preview.png").status_code == 404


def test_a_broken_pdf_shows_a_file_icon_and_is_not_rendered_again(app, login):
    claim_id, attachment_id = claim_with(app, "发票.pdf", b"%PDF-1.4\n" + b"garbage " * 50)
    finance = login("finance1")
    page = finance.get(f"/expense/claims/{claim_id}").get_data(as_text=True)
    assert 'class="receipt-icon"' in page and "preview.png" not in page
    assert cached_preview(app, attachment_id).with_suffix(".failed").exists()
    assert finance.get(f"/attachments/{attachment_id}/preview.png").status_code == 404
