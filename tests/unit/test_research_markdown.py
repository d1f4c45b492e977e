"""render_markdown: user Markdown made safe -- the allow-list, links and images."""

from __future__ import annotations

from mktapp.core.markdown import render_markdown


def test_script_is_removed_with_its_content():
    html = str(render_markdown("# 发现\n\n<script>alert(1)</script>正文"))
    assert "<script" not in html and "alert" not in html
    assert "<h1>发现</h1>" in html and "正文" in html


def test_htmx_data_and_event_attributes_are_stripped():
    html = str(
        render_markdown(
            '<p hx-get="/admin" data-x="1" onclick="a()">点</p>\n\n<img src="a.png" onerror="alert(1)">'
        )
    )
    assert "hx-get" not in html and "data-x" not in html
    assert "onclick" not in html and "onerror" not in html
    assert 'src="a.png"' in html


def test_javascript_links_lose_their_address_and_web_links_keep_it():
    html = str(
        render_markdown("[x](javascript:alert(1)) [y](https://example.com) [m](mailto:a@b.cn)")
    )
    assert "javascript" not in html
    assert 'href="https://example.com"' in html and 'href="mailto:a@b.cn"' in html


def test_images_only_from_data_relative_or_attachment_urls():
    html = str(
        render_markdown(
            "![f](file:///etc/passwd) ![h](https://evil.example/x.png) "
            "![d](data:image/png;base64,AAAA) ![a](/attachments/3) ![s](data:image/svg+xml;base64,AA)"
        )
    )
    assert "file:" not in html and "evil.example" not in html and "svg" not in html
    assert 'src="data:image/png;base64,AAAA"' in html and 'src="/attachments/3"' in html


def test_tables_lists_and_emphasis_are_kept():
    html = str(render_markdown("|渠道|占比|\n|-|-|\n|线上|60%|\n\n- **重点**\n- *次要*\n\n> 引用"))
    for tag in (
        "<table>",
        "<th>渠道</th>",
        "<ul>",
        "<strong>重点</strong>",
        "<em>次要</em>",
        "<blockquote>",
    ):
        assert tag in html


def test_style_and_iframe_are_dropped():
    html = str(
        render_markdown('<style>body{}</style><iframe src="x"></iframe><b style="color:red">粗</b>')
    )
    assert "<style" not in html and "<iframe" not in html and "style=" not in html
