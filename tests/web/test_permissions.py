"""Every view declares who may use it; anonymous users are sent to sign in."""

from mktapp.core.permissions import declared

PUBLIC = {
    "auth.login",
    "static",
    "core.healthz",
    "core.set_language",
    # The published questionnaire, a customer's one-time link and the thanks page (P2.2).
    "research.answer",
    "research.answer_invite",
    "research.answer_thanks",
}


def test_every_endpoint_declares_its_permission(app):
    undeclared = [
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if not declared(app.view_functions[rule.endpoint]) and rule.endpoint != "static"
    ]
    assert undeclared == []


def test_only_login_static_health_and_language_are_public(app):
    public = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if getattr(app.view_functions[rule.endpoint], "is_public", False)
    }
    assert public <= PUBLIC


def test_every_non_public_get_page_redirects_anonymous_to_login(app, client):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC or "GET" not in rule.methods:
            continue
        url = rule.rule
        for arg in rule.arguments:
            url = url.replace(f"<int:{arg}>", "1").replace(f"<{arg}>", "1")
            url = url.replace(f"<path:{arg}>", "x").replace(f"<string:{arg}>", "x")
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/auth/login" in response.headers["Location"], url
