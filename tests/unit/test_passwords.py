"""What a password must be: at least 10 characters, not the username, not a common one;
the one service that sets every password refuses the rest with the reason at the field."""

import pytest
from flask_babel import force_locale

from mktapp.auth.passwords import MIN_LENGTH, common_passwords, password_problem
from mktapp.auth.services import AuthError, set_password
from mktapp.cli import DEMO_PASSWORD
from mktapp.demo.org import USERS
from mktapp.models import User


@pytest.mark.parametrize(
    "weak",
    ["aaaaaaaa", "12345678", "password", "sales1", "short", ""],
)
def test_the_weak_passwords_that_were_accepted_are_refused(app_ctx, weak):
    assert password_problem(weak, "sales1")


@pytest.fixture
def english(app_ctx):
    with force_locale("en"):
        yield


def test_a_password_needs_ten_characters(english):
    assert MIN_LENGTH == 10
    assert "10" in password_problem("Kx7#pq2Lm", "sales1")
    assert password_problem("Kx7#pq2Lmz", "sales1") is None


@pytest.mark.parametrize("password", ["sales1sales1", "my-SALES1-pass", "xxSaLeS1xxxx"])
def test_a_password_may_not_contain_the_username_in_any_case(english, password):
    problem = password_problem(password, "Sales1")
    assert problem and "username" in problem


@pytest.mark.parametrize(
    "common",
    ["password123", "1234567890", "qwertyuiop", "Password123", "aaaaaaaaaaaa", "1212121212"],
)
def test_common_passwords_from_the_packaged_list_are_refused(english, common):
    problem = password_problem(common, "sales1")
    assert problem and "common" in problem


def test_the_packaged_list_is_large(app_ctx):
    assert len(common_passwords()) >= 10_000
    assert "password" in common_passwords()


def test_the_demo_password_passes_for_every_demo_account(app_ctx):
    assert DEMO_PASSWORD == "mktapp-demo-2026"
    for row in USERS:
        assert password_problem(DEMO_PASSWORD, row[0]) is None, row[0]


def test_set_password_refuses_with_the_reason_at_the_field(app_ctx):
    user = User(username="wang", display_name="王")
    with pytest.raises(AuthError) as error:
        set_password(user, "password123", "pbkdf2:sha256:1000", field="new_password")
    assert error.value.field == "new_password"
    assert user.password_hash is None
    set_password(user, "correct horse battery", "pbkdf2:sha256:1000")
    assert user.password_hash.startswith("pbkdf2:")


def test_the_message_is_chinese_in_the_chinese_interface(app):
    with app.test_request_context():
        with force_locale("zh_Hans"):
            for weak, username in (("short", "x"), ("wang-password", "wang"), ("password123", "x")):
                message = password_problem(weak, username)
                assert message and not any("a" <= ch.lower() <= "z" for ch in message), message
