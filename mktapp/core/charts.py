"""SVG charts drawn on the server: the same markup in the page and in the PDF.

No JavaScript and no inline styles (the CSP forbids them): colours and sizes
are SVG presentation attributes, so a chart looks the same in WeasyPrint as in
the browser. Every chart is an image to assistive technology (role="img" with
<title> and <desc>); the page puts the figures in a table next to it.

    bar_chart(labels, [Series("预算", values, BUDGET), Series("实际", values, ACTUAL)],
              title="...", desc="...", fmt=money)
    line_chart(labels, [Series(...), ...], title=..., marker=(index, "今天"))
    pace_bar(spent_share, elapsed_share, label)
    funnel_chart([("寻找潜在客户", 120, "¥3,600,000.00"), ...], title=..., desc=...)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import count

from markupsafe import Markup, escape

# A palette that reads on white and in print (each passes 3:1 against white as a graphic).
BUDGET = "#a5b4d4"
ACTUAL = "#1d4ed8"
OVER = "#b42318"
COMMITTED = "#7aa2f7"
ELAPSED = "#8a5300"
GRID = "#e3e7ee"
AXIS = "#556070"
TEXT = "#1b2330"
FONT = "Noto Sans CJK SC, Noto Sans SC, PingFang SC, Microsoft YaHei, sans-serif"

_ids = count(1)


@dataclass
class Series:
    name: str
    values: Sequence[Decimal | float | int | None]
    color: str = ACTUAL
    # Optional per-point colour (e.g. red where actual exceeds budget).
    colors: Sequence[str | None] | None = None
    # Bars only: values stacked on top of this series (e.g. committed on actual).
    stack: Sequence[Decimal | float | int | None] | None = None
    stack_color: str = COMMITTED
    stack_name: str = ""
    dashed: bool = False
    extra: dict = field(default_factory=dict)


def _num(value) -> float:
    return float(value or 0)


def nice_ticks(maximum: float, wanted: int = 5) -> list[float]:
    """Round axis ticks from 0 to at least `maximum` (steps of 1, 2 or 5 x 10^k)."""
    if maximum <= 0:
        return [0.0, 1.0]
    raw = maximum / wanted
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    top = math.ceil(maximum / step) * step
    return [i * step for i in range(int(round(top / step)) + 1)]


def compact_yuan(value: float, locale: str = "zh") -> str:
    """Axis labels: ¥12万 / ¥1.2亿 in Chinese, ¥120k / ¥1.2M in English."""
    v = abs(value)
    sign = "-" if value < 0 else ""

    def trim(x: float) -> str:
        return f"{x:.1f}".rstrip("0").rstrip(".")

    if str(locale).startswith("zh"):
        if v >= 1e8:
            return f"{sign}¥{trim(v / 1e8)}亿"
        if v >= 1e4:
            return f"{sign}¥{trim(v / 1e4)}万"
        return f"{sign}¥{trim(v)}"
    if v >= 1e6:
        return f"{sign}¥{trim(v / 1e6)}M"
    if v >= 1e3:
        return f"{sign}¥{trim(v / 1e3)}k"
    return f"{sign}¥{trim(v)}"


def _open(width: int, height: int, title: str, desc: str, css: str) -> tuple[list[str], str]:
    uid = f"chart{next(_ids)}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {escape(css)}" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMidYMid meet" '
        f'role="img" aria-labelledby="{uid}-t {uid}-d" font-family="{FONT}" font-size="12">',
        f'<title id="{uid}-t">{escape(title)}</title>',
        f'<desc id="{uid}-d">{escape(desc)}</desc>',
    ]
    return parts, uid


def _legend(parts: list[str], items: list[tuple[str, str, bool]], x: float, y: float) -> None:
    for name, color, dashed in items:
        if dashed:
            parts.append(
                f'<line x1="{x:.1f}" y1="{y - 4:.1f}" x2="{x + 14:.1f}" y2="{y - 4:.1f}" '
                f'stroke="{color}" stroke-width="2" stroke-dasharray="4 3"/>'
            )
        else:
            parts.append(
                f'<rect x="{x:.1f}" y="{y - 10:.1f}" width="12" height="12" rx="2" fill="{color}"/>'
            )
        parts.append(f'<text x="{x + 18:.1f}" y="{y:.1f}" fill="{TEXT}">{escape(name)}</text>')
        x += 30 + 13 * _text_units(name)


def _text_units(text: str) -> float:
    """Rough width of a label in ems (CJK characters are full width)."""
    return sum(1.0 if ord(ch) > 0x2E80 else 0.58 for ch in str(text))


def _axes(parts, ticks, fmt, left, top, plot_w, plot_h, top_value) -> Callable[[float], float]:
    def y_of(value: float) -> float:
        return top + plot_h - (value / top_value) * plot_h if top_value else top + plot_h

    for tick in ticks:
        y = y_of(tick)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{AXIS}">'
            f"{escape(fmt(tick))}</text>"
        )
    parts.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        f'stroke="{AXIS}" stroke-width="1"/>'
    )
    return y_of


def bar_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    title: str,
    desc: str,
    fmt: Callable[[float], str] = compact_yuan,
    width: int = 760,
    height: int = 280,
    css: str = "",
) -> Markup:
    """Grouped vertical bars, one group per label, one bar per series (optionally stacked)."""
    left, right, top, bottom = 64, 12, 34, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = 0.0
    for s in series:
        for i, v in enumerate(s.values):
            stacked = _num(s.stack[i]) if s.stack is not None else 0.0
            peak = max(peak, _num(v) + stacked)
    ticks = nice_ticks(peak)
    parts, _uid = _open(width, height, title, desc, css)
    legend = []
    for s in series:
        legend.append((s.name, s.color, False))
        if s.stack is not None and s.stack_name:
            legend.append((s.stack_name, s.stack_color, False))
    if any(s.colors and any(s.colors) for s in series):
        over = next(c for s in series if s.colors for c in s.colors if c)
        legend.append((series[-1].extra.get("over_name", ""), over, False))
    _legend(parts, [item for item in legend if item[0]], left, 16)
    y_of = _axes(parts, ticks, fmt, left, top, plot_w, plot_h, ticks[-1])
    n = max(len(labels), 1)
    group_w = plot_w / n
    bar_w = min(22.0, (group_w * 0.72) / max(len(series), 1))
    for i, label in enumerate(labels):
        gx = left + i * group_w + (group_w - bar_w * len(series)) / 2
        for j, s in enumerate(series):
            value = _num(s.values[i]) if i < len(s.values) else 0.0
            x = gx + j * bar_w
            y = y_of(value)
            color = (s.colors[i] if s.colors and i < len(s.colors) else None) or s.color
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" '
                f'height="{max(top + plot_h - y, 0):.1f}" fill="{color}"/>'
            )
            if s.stack is not None and i < len(s.stack) and _num(s.stack[i]) > 0:
                y2 = y_of(value + _num(s.stack[i]))
                parts.append(
                    f'<rect x="{x:.1f}" y="{y2:.1f}" width="{bar_w - 2:.1f}" '
                    f'height="{max(y - y2, 0):.1f}" fill="{s.stack_color}"/>'
                )
        parts.append(
            f'<text x="{left + i * group_w + group_w / 2:.1f}" y="{top + plot_h + 18}" '
            f'text-anchor="middle" fill="{AXIS}">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    title: str,
    desc: str,
    fmt: Callable[[float], str] = compact_yuan,
    marker: tuple[float, str] | None = None,
    width: int = 760,
    height: int = 260,
    css: str = "",
) -> Markup:
    """Lines over the labels; `marker` (position in label units, text) draws a vertical rule."""
    left, right, top, bottom = 64, 16, 34, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((_num(v) for s in series for v in s.values if v is not None), default=0.0)
    ticks = nice_ticks(peak)
    parts, _uid = _open(width, height, title, desc, css)
    _legend(parts, [(s.name, s.color, s.dashed) for s in series], left, 16)
    y_of = _axes(parts, ticks, fmt, left, top, plot_w, plot_h, ticks[-1])
    n = max(len(labels), 1)
    step = plot_w / n

    def x_of(i: float) -> float:
        return left + step * (i + 0.5)

    for i, label in enumerate(labels):
        parts.append(
            f'<text x="{x_of(i):.1f}" y="{top + plot_h + 18}" text-anchor="middle" '
            f'fill="{AXIS}">{escape(label)}</text>'
        )
    if marker is not None:
        mx = left + step * marker[0]
        parts.append(
            f'<line x1="{mx:.1f}" y1="{top}" x2="{mx:.1f}" y2="{top + plot_h}" '
            f'stroke="{ELAPSED}" stroke-width="1.5" stroke-dasharray="3 3"/>'
        )
        parts.append(
            f'<text x="{mx + 4:.1f}" y="{top + 12}" fill="{ELAPSED}">{escape(marker[1])}</text>'
        )
    for s in series:
        points = [(x_of(i), y_of(_num(v))) for i, v in enumerate(s.values) if v is not None]
        if not points:
            continue
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{s.color}" stroke-width="2.5"{dash}/>'
        )
        for x, y in points:
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{s.color}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def pace_bar(
    spent: Decimal | float, elapsed: Decimal | float, label: str, width: int = 160, height: int = 18
) -> Markup:
    """A small bar: share spent (blue, red past 100 %), with a tick at the share of time elapsed.

    Both shares are fractions (0.5 = half); the bar shows up to 120 %.
    """
    spent_f, elapsed_f = _num(spent), _num(elapsed)
    scale = width / 1.2
    bar = min(spent_f, 1.2) * scale
    color = OVER if spent_f > 1 else (ELAPSED if spent_f - elapsed_f > 0.2 else ACTUAL)
    tick = min(elapsed_f, 1.2) * scale
    full = scale
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="pace-bar" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(label)}">'
        f'<rect x="0" y="4" width="{full:.1f}" height="10" rx="2" fill="{GRID}"/>'
        f'<rect x="0" y="4" width="{bar:.1f}" height="10" rx="2" fill="{color}"/>'
        f'<line x1="{tick:.1f}" y1="0" x2="{tick:.1f}" y2="{height}" stroke="{TEXT}" '
        f'stroke-width="2"/>'
        "</svg>"
    )


FUNNEL = ("#1d4ed8", "#2f62e0", "#4a7be6", "#6b93ea", "#8aa9ee", "#a5b4d4")


def funnel_chart(
    stages: Sequence[tuple[str, int | float, str]],
    title: str,
    desc: str,
    width: int = 560,
    row_height: int = 36,
    css: str = "",
) -> Markup:
    """A funnel: one centred bar per stage, as wide as its count relative to the widest,
    labelled "name · count · note" (note: e.g. the amount). Stages in funnel order."""
    gap, label_w = 6, 150
    height = max(1, len(stages)) * (row_height + gap) + gap
    parts, _uid = _open(width, height, title, desc, css)
    peak = max((_num(n) for _name, n, _note in stages), default=0.0) or 1.0
    plot_w = width - label_w - 12
    centre = label_w + plot_w / 2
    for i, (name, n, note) in enumerate(stages):
        y = gap + i * (row_height + gap)
        w = max(plot_w * _num(n) / peak, 4.0)
        color = FUNNEL[min(i, len(FUNNEL) - 1)]
        parts.append(
            f'<rect x="{centre - w / 2:.1f}" y="{y}" width="{w:.1f}" height="{row_height}" '
            f'rx="3" fill="{color}"/>'
        )
        parts.append(
            f'<text x="{label_w - 10}" y="{y + row_height / 2 + 4:.1f}" text-anchor="end" '
            f'fill="{TEXT}" font-weight="600">{escape(name)}</text>'
        )
        inside = w > 150
        ink = "#ffffff" if i < 3 else TEXT  # the lighter bars take dark text
        parts.append(
            f'<text x="{centre:.1f}" y="{y + row_height / 2 + 4:.1f}" text-anchor="middle" '
            f'fill="{ink}">'
            f"{escape(str(n))} · {escape(note)}</text>"
            if inside
            else f'<text x="{centre + w / 2 + 8:.1f}" y="{y + row_height / 2 + 4:.1f}" '
            f'fill="{TEXT}">{escape(str(n))} · {escape(note)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def hbar_chart(
    labels: Sequence[str],
    values: Sequence[Decimal | float | int | None],
    title: str,
    desc: str,
    fmt: Callable[[float], str] = lambda v: f"{v:g}",
    color: str = ACTUAL,
    width: int = 760,
    bar: int = 22,
    css: str = "",
) -> Markup:
    """Horizontal bars, one per label (long labels such as a questionnaire's choices).

    The labels sit left of the bars (cut with … past about 22 characters), the value at
    each bar's end.
    """
    gap = 10
    label_w = min(260, 16 + 13 * max((_text_units(lbl[:22]) for lbl in labels), default=4))
    left, right, top = label_w, 56, 8
    plot_w = width - left - right
    height = top + len(labels) * (bar + gap) + 4
    peak = max((_num(v) for v in values), default=0.0) or 1.0
    parts, _uid = _open(width, height, title, desc, css)
    for i, label in enumerate(labels):
        y = top + i * (bar + gap)
        value = _num(values[i]) if i < len(values) else 0.0
        length = plot_w * value / peak
        shown = label if len(label) <= 22 else label[:21] + "…"
        parts.append(
            f'<text x="{left - 8}" y="{y + bar / 2 + 4:.1f}" text-anchor="end" fill="{TEXT}">'
            f"{escape(shown)}</text>"
        )
        parts.append(
            f'<rect x="{left}" y="{y}" width="{plot_w}" height="{bar}" rx="3" fill="{GRID}" '
            f'opacity="0.45"/>'
        )
        if length > 0:
            parts.append(
                f'<rect x="{left}" y="{y}" width="{length:.1f}" height="{bar}" rx="3" '
                f'fill="{color}"/>'
            )
        parts.append(
            f'<text x="{left + length + 6:.1f}" y="{y + bar / 2 + 4:.1f}" fill="{TEXT}">'
            f"{escape(fmt(value))}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
