"""The record kit's first pieces in core: one DomainError, one confirm form, one way to put
a complaint on a form, one way to run an action on a record (issue 12)."""

from __future__ import annotations

import pytest
from flask_wtf import FlaskForm
from werkzeug.exceptions import BadRequest
from wtforms import FieldList, FormField, StringField
from wtforms import Form as PlainForm
from wtforms.validators import Optional, Regexp

from mktapp.contracts.services import ContractError
from mktapp.contracts.services import NotAllowed as ContractNotAllowed
from mktapp.core import approvals as engine
from mktapp.core.actions import record_action
from mktapp.core.errors import DomainError
from mktapp.core.forms import ConfirmForm, put_error
from mktapp.core.money import MoneyError, parse_money
from mktapp.research.surveys import SurveyClosed


class Line(PlainForm):
    quantity = StringField(validators=[Optional(), Regexp(r"^\d+$", message="数量请填写整数")])


class Order(FlaskForm):
    class Meta:
        csrf = False

    title = StringField()
    lines = FieldList(FormField(Line), min_entries=2)


def test_every_chapter_error_and_the_engine_s_are_domain_errors_with_their_status():
    assert issubclass(ContractError, DomainError)
    assert issubclass(engine.ApprovalError, DomainError)
    assert ContractError("x").status == 422
    assert ContractNotAllowed("x").status == 403
    assert engine.AlreadyDecided("x").status == 409
    assert SurveyClosed("x").status == 410
    assert DomainError("x", status=404).status == 404
    error = ContractError("总额不符", "total")
    assert (str(error), error.field, error.problems) == (
        "总额不符",
        "total",
        [("total", "总额不符")],
    )


def test_a_money_error_is_still_a_value_error_for_the_forms_that_catch_one():
    with pytest.raises(ValueError):
        parse_money("abc")
    with pytest.raises(MoneyError):
        parse_money("1.234")
    assert str(parse_money("¥１,234.5")) == "1234.50"


def test_put_error_sets_each_problem_at_its_field_and_the_rest_above_the_form(app_ctx):
    form = Order()
    error = DomainError(
        "数量必须大于 0",
        "lines-1-quantity",
        [
            ("lines-1-quantity", "数量必须大于 0"),
            ("title", "请填写标题"),
            (None, "合同已被他人修改"),
        ],
    )
    put_error(form, error)
    assert form.lines.entries[1].form.quantity.errors == ["数量必须大于 0"]
    assert form.lines.entries[0].form.quantity.errors in ([], ())
    assert form.title.errors == ["请填写标题"]
    assert form.form_errors == ["合同已被他人修改"]
    put_error(form, DomainError("请填写标题", "title"))  # the same message is not said twice
    assert form.title.errors == ["请填写标题"]
    # a field the form does not have: the message goes above the form, not lost
    put_error(form, DomainError("未知字段的问题", "lines-7-quantity"))
    assert "未知字段的问题" in form.form_errors


def test_put_error_leaves_not_allowed_and_not_found_to_the_error_pages(app_ctx):
    with pytest.raises(ContractNotAllowed):
        put_error(Order(), ContractNotAllowed("无权修改"))


class Record:
    number = "HT-2026-0007"
    name = "华东水务"


@pytest.fixture
def no_csrf(app, monkeypatch):
    """The token is the browser tests' and the web tests' business; here the kit's logic."""
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)


def _post(app, data):
    return app.test_request_context("/", method="POST", data=data)


def test_record_action_commits_and_says_what_was_done(app, no_csrf):
    seen = []
    with _post(app, {}):
        response = record_action(
            Record(),
            lambda record, form: seen.append(record.number),
            message="合同 %(number)s 已提交审批。",
            then="/contracts/7",
            on_error=lambda error, form: pytest.fail("no error expected"),
        )
        from flask import get_flashed_messages

        assert get_flashed_messages() == ["合同 HT-2026-0007 已提交审批。"]
    assert seen == ["HT-2026-0007"]
    assert response.status_code == 303 and response.location.endswith("/contracts/7")


def test_record_action_without_a_valid_token_is_a_bad_request_and_does_nothing(app):
    seen = []
    with _post(app, {"csrf_token": "forged"}):
        with pytest.raises(BadRequest):
            record_action(
                Record(),
                lambda record, form: seen.append(1),
                message="x",
                then="/",
                on_error=lambda error, form: None,
            )
    assert seen == []


def test_record_action_answers_a_refusal_with_the_page_again(app, no_csrf):
    with _post(app, {}):

        def refuse(record, form):
            raise ContractError("付款计划合计与合同总额不符。", "instalments")

        answer = record_action(
            Record(),
            refuse,
            message="x",
            then="/",
            on_error=lambda error, form: (error.field, error.message, 422),
        )
    assert answer == ("instalments", "付款计划合计与合同总额不符。", 422)


def test_record_action_leaves_not_allowed_to_the_403_page(app, no_csrf):
    with _post(app, {}):

        def forbidden(record, form):
            raise ContractNotAllowed("无权操作")

        with pytest.raises(ContractNotAllowed):
            record_action(Record(), forbidden, message="x", then="/", on_error=lambda e, f: None)


def test_a_domain_error_that_escapes_a_route_gets_its_status_and_message(app):
    handler = app.error_handler_spec[None][None][DomainError]
    with app.test_request_context("/"):
        body, status = handler(DomainError("此合同已被他人修改，请刷新后再试。", status=409))
    assert status == 409 and "此合同已被他人修改" in body
    with app.test_request_context("/"):
        _body, status = handler(ContractNotAllowed("无权操作"))
    assert status == 403


def test_there_is_one_confirm_form():
    import mktapp.contracts.routes as contracts_routes
    import mktapp.research.routes_plans as plan_routes

    assert contracts_routes.ConfirmForm is ConfirmForm is plan_routes.ConfirmForm


def test_a_row_that_does_not_validate_is_named_by_its_row_and_field(app, no_csrf):
    """A list of rows (FieldList) that fails: its message at the row's field, not "{}"."""
    data = {"title": "x", "lines-0-quantity": "3", "lines-1-quantity": "三"}
    with _post(app, data):
        answer = record_action(
            None,
            lambda record, form: pytest.fail("nothing is done with a form that fails"),
            message="x",
            then="/",
            on_error=lambda error, form: (error.field, error.message, put_error(form, error)),
            form=Order(),
        )
    field, message, form = answer
    assert (field, message) == ("lines-1-quantity", "数量请填写整数")
    assert form.lines.entries[1].form.quantity.errors == ["数量请填写整数"]
    assert form.form_errors == []


def test_a_lazy_message_of_a_field_is_named_too_and_no_empty_alert_is_added(app, no_csrf):
    """Validators with lazy_gettext messages: the message is found, not an empty one."""
    from flask_babel import lazy_gettext as _l
    from wtforms.validators import DataRequired

    class Product(FlaskForm):
        code = StringField(validators=[DataRequired(message=_l("Enter the product code."))])

    with _post(app, {"code": ""}):
        field, message, form = record_action(
            None,
            lambda record, form: pytest.fail("nothing is done with a form that fails"),
            message="x",
            then="/",
            on_error=lambda error, form: (error.field, error.message, put_error(form, error)),
            form=Product(),
        )
    assert field == "code" and message
    assert form.form_errors == [] and len(form.code.errors) == 1
