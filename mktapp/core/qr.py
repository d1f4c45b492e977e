"""QR codes of links, as SVG (segno): on a page (inline, scalable) or as a file to print.

Used by the research chapter (a published questionnaire's link) and the brand chapter
(an activity's feedback sign). segno loads with the first code, not with the app.
"""

from __future__ import annotations

import io

import segno


def qr_svg(url: str, inline: bool = True) -> str:
    """The link as a QR code in SVG (scalable: a viewBox, no fixed size when inline)."""

    code = segno.make(url, error="m")
    if inline:
        return code.svg_inline(scale=1, border=2, omitsize=True, svgclass="qr-code", title=url)
    out = io.BytesIO()
    code.save(out, kind="svg", scale=10, border=4, xmldecl=True, title=url, svgclass="qr-code")
    return out.getvalue().decode("utf-8")
