"""Markdown written by users, rendered once and sanitised: render_markdown(text) -> Markup.

Used wherever user Markdown is shown -- the page and the PDF alike -- so both see the
same cleaned HTML. The text is turned into HTML by `markdown` (tables extension) and
then cleaned by nh3 (ammonia) with a short allow-list:

- tags: headings, paragraphs, lists, emphasis, tables, blockquote, code, links, images;
- attributes: a[href, title], img[src, alt], th/td[align]; every other attribute
  (on*, hx-*, data-*, style, class, id) is dropped;
- links: only http, https, mailto (and relative) URLs;
- images: only data:image/ URIs, relative paths and the app's /attachments/ URLs.

Everything else (javascript:, file:, vbscript:, data: in links) is removed, and
<script>/<style> elements go with their content.
"""

from __future__ import annotations

import markdown as _markdown
import nh3
from markupsafe import Markup

TAGS = {
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr",
    "ul", "ol", "li", "em", "strong", "b", "i",
    "table", "thead", "tbody", "tr", "th", "td",
    "blockquote", "code", "pre", "a", "img",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt"}, "th": {"align"}, "td": {"align"}}
LINK_SCHEMES = ("http:", "https:", "mailto:")


def _is_relative(url: str) -> bool:
    head = url.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    return ":" not in head and not url.startswith("//") and "\\" not in url


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    url = value.strip()
    lowered = url.lower()
    if tag == "a" and attribute == "href":
        return url if lowered.startswith(LINK_SCHEMES) or _is_relative(url) else None
    if tag == "img" and attribute == "src":
        if lowered.startswith("data:image/") and not lowered.startswith("data:image/svg"):
            return url
        return url if _is_relative(url) else None
    return value


def clean_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=TAGS,
        clean_content_tags={"script", "style"},
        attributes=ATTRIBUTES,
        attribute_filter=_attribute_filter,
        url_schemes={"http", "https", "mailto", "data"},
        link_rel="noopener noreferrer nofollow",
    )


def render_markdown(text: str | None) -> Markup:
    """User Markdown as safe HTML (see the module's allow-list)."""
    html = _markdown.markdown(text or "", extensions=["tables", "sane_lists"], output_format="html")
    return Markup(clean_html(html))
