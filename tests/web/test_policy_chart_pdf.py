"""The org chart with every post's duties as a PDF (P1, the proof of the PDF machinery)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext, pdffonts) not installed"
)


def run(tool: str, path) -> str:
    return subprocess.run(
        [
            tool,
            *(["-enc", "UTF-8"] if tool == "pdftotext" else []),
            str(path),
            *(["-"] if tool == "pdftotext" else []),
        ],
        capture_output=True,
        check=True,
        text=True,
    ).stdout


def test_org_chart_pdf_reads_in_chinese_with_an_embedded_cjk_font(login, tmp_path):
    response = login("sales1").get("/org/chart.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    path = tmp_path / "chart.pdf"
    path.write_bytes(response.data)

    text = run("pdftotext", path)
    for words in (
        "示例科技有限公司",
        "王建国",
        "市场组",
        "业务组",
        "客服组",
        "营销经理",
        "市场专员",
    ):
        assert words in text, words
    # A duty from the policy's P1.2, as seeded on the post.
    assert "制定营销战略、计划与预算" in text

    fonts = run("pdffonts", path)
    cjk = [line for line in fonts.splitlines() if "CJK" in line]
    assert cjk, fonts
    assert all(" yes yes " in line for line in cjk), fonts  # embedded and subset
    # Subset fonts keep the file small (the whole CJK font is ~16 MB).
    assert len(response.data) < 1_000_000


def test_org_chart_pdf_has_page_x_of_y_footer(login, tmp_path):
    response = login("manager").get("/org/chart.pdf", headers={"Accept-Language": "en"})
    path = tmp_path / "chart.pdf"
    path.write_bytes(response.data)
    pages = int(
        next(
            line.split()[-1]
            for line in subprocess.run(
                ["pdfinfo", str(path)], capture_output=True, check=True, text=True
            ).stdout.splitlines()
            if line.startswith("Pages:")
        )
    )
    text = run("pdftotext", path)
    assert f"of {pages}" in text or f"共 {pages} 页" in text
