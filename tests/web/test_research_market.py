"""Competitors and industry news: the list, the form (422 with nothing saved), the
side-by-side comparison, the change history, the filterable feed and who may write."""

from __future__ import annotations

from sqlalchemy import func, select

from mktapp.extensions import db
from mktapp.models import Competitor, IndustryNews


def _competitor(app, name):
    with app.app_context():
        return db.session.scalar(select(Competitor.id).where(Competitor.name == name))


def test_market_specialist_sees_the_demo_competitors_by_share(login):
    text = login("market1").get("/research/competitors/").get_data(as_text=True)
    assert text.index("华信办公科技") < text.index("东方影像") < text.index("联创商用设备")
    fragment = login("market1").get("/research/competitors/?q=租赁", htmx="competitor_rows")
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and "智印云" in body and "东方影像" not in body


def test_competitor_is_recorded_changed_and_its_history_shows_the_change(app, login):
    client = login("market1")
    data = {
        "name": "新锐打印",
        "market_share": "3.5",
        "products": "A4 黑白打印机",
        "pricing": "低价",
        "channels": "电商",
        "promotions": "",
        "strengths": "便宜",
        "weaknesses": "服务差",
    }
    assert client.post("/research/competitors/new", data=data).status_code == 303
    cid = _competitor(app, "新锐打印")
    data["pricing"] = "跟随定价"
    assert client.post(f"/research/competitors/{cid}/edit", data=data).status_code == 303
    page = client.get(f"/research/competitors/{cid}").get_data(as_text=True)
    assert "跟随定价" in page and "3.5%" in page
    assert "低价" in page  # the history shows the old value


def test_competitor_with_a_bad_share_or_a_taken_name_is_refused(app, login):
    client = login("market1")
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Competitor))
    bad = client.post("/research/competitors/new", data={"name": "甲", "market_share": "120"})
    assert bad.status_code == 422
    taken = client.post("/research/competitors/new", data={"name": "东方影像"})
    assert taken.status_code == 422 and "已" in taken.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Competitor)) == before


def test_chosen_competitors_are_compared_side_by_side(app, login):
    a, b = _competitor(app, "华信办公科技"), _competitor(app, "智印云")
    text = (
        login("boss").get(f"/research/competitors/compare?ids={a}&ids={b}").get_data(as_text=True)
    )
    assert "华信办公科技" in text and "智印云" in text and "按月付费" in text
    assert "24%" in text and "9%" in text
    one = login("boss").get(f"/research/competitors/compare?ids={a}").get_data(as_text=True)
    assert "至少" in one


def test_news_feed_filters_by_category_and_impact(login):
    client = login("market1")
    text = client.get("/research/news/?category=policy&impact=high").get_data(as_text=True)
    assert "政府采购进一步向节能办公设备倾斜" in text
    assert "办公设备租赁模式增长迅速" not in text and "政务无纸化" not in text
    fragment = client.get("/research/news/?q=租赁", htmx="news_rows").get_data(as_text=True)
    assert "<html" not in fragment and "办公设备租赁模式增长迅速" in fragment


def test_news_is_added_and_a_javascript_source_is_refused(app, login):
    client = login("market1")
    data = {
        "category": "technology",
        "title": "喷墨技术新突破",
        "summary": "打印速度提升一倍。",
        "source_url": "javascript:alert(1)",
        "published_on": "2026-11-01",
        "impact": "low",
    }
    refused = client.post("/research/news/new", data=data)
    assert refused.status_code == 422
    with app.app_context():
        assert (
            db.session.scalar(select(IndustryNews.id).where(IndustryNews.title == "喷墨技术新突破"))
            is None
        )
    data["source_url"] = "https://example.com/ink"
    assert client.post("/research/news/new", data=data).status_code == 303
    assert "喷墨技术新突破" in client.get("/research/news/").get_data(as_text=True)


def test_executive_reads_competitors_and_news_but_cannot_write(login):
    boss = login("boss")
    assert boss.get("/research/competitors/").status_code == 200
    assert boss.get("/research/news/").status_code == 200
    assert boss.get("/research/competitors/new").status_code == 403
    assert boss.get("/research/news/new").status_code == 403
    assert login("sales1").get("/research/competitors/").status_code == 403
    assert login("market1").get("/research/competitors/99999").status_code == 404


def test_market_demand_is_charted_by_segment_and_a_figure_is_added(app, login):
    client = login("market1")
    page = client.get("/research/demand/").get_data(as_text=True)
    assert "<svg" in page and "会议平板 · 华东" in page and "+20.9%" in page
    data = {
        "segment": "碎纸机 · 全国",
        "year": "2026",
        "size": "5200",
        "growth": "3.5",
        "source": "行业协会",
    }
    assert client.post("/research/demand/", data=data).status_code == 303
    assert "碎纸机 · 全国" in client.get("/research/demand/").get_data(as_text=True)
    again = client.post("/research/demand/", data=data)
    assert again.status_code == 422 and "已有" in again.get_data(as_text=True)
    bad = client.post("/research/demand/", data={**data, "year": "1800", "segment": "新"})
    assert bad.status_code == 422
    with app.app_context():
        from mktapp.models import MarketFigure

        assert (
            db.session.scalar(
                select(func.count()).select_from(MarketFigure).where(MarketFigure.segment == "新")
            )
            == 0
        )
    assert login("boss").post("/research/demand/", data=data).status_code == 403
