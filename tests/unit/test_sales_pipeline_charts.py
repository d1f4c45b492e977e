"""The funnel chart (core/charts.py funnel_chart): an accessible SVG, widest bar first."""

from __future__ import annotations

import re

from mktapp.core.charts import funnel_chart


def test_funnel_is_an_svg_image_with_a_bar_per_stage_as_wide_as_its_count():
    svg = str(
        funnel_chart(
            [("寻找潜在客户", 100, "¥1,000.00"), ("初步接触", 50, "¥500.00"), ("赢单", 0, "¥0.00")],
            title="销售漏斗",
            desc="各阶段商机数",
        )
    )
    assert svg.startswith("<svg") and 'role="img"' in svg and "<title" in svg
    widths = [float(w) for w in re.findall(r'<rect x="[^"]+" y="[^"]+" width="([^"]+)"', svg)]
    assert len(widths) == 3
    assert widths[0] == 2 * widths[1] and widths[2] == 4.0  # an empty stage keeps a sliver
    assert "寻找潜在客户" in svg and "50 · ¥500.00" in svg


def test_funnel_escapes_its_labels():
    svg = str(funnel_chart([("<b>", 1, "&")], title="t", desc="d"))
    assert "<b>" not in svg and "&lt;b&gt;" in svg and "&amp;" in svg
