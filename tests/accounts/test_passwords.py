"""The password policy for new passwords (issue 12: "`aaaaaaaaaa` is accepted as an admin password")."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from audit import passwords
from audit.auth import AccountError, add_user
from audit.cli import main


@pytest.mark.parametrize("password,why", [
    ("aaaaaaaaaa", "at least 12 characters"),
    ("aaaaaaaaaaaaaaaa", "different characters"),
    ("abababababababab", "different characters"),
    ("short-pw-11", "at least 12 characters"),
    ("qwerty123456", "commonly used"),
    ("password1234", "commonly used"),
    ("Password12345678", "commonly used"),  # a listed word with digits added
    ("Sommerfugl2024!", "commonly used"),  # Danish additions to the list
    ("!!kodeord1234!!", "commonly used"),
    ("mettejensen", "at least 12"),
    ("mettejensen-rocks", "contain the username"),
    ("MetteJensen", "contain the username"),
    ("x" * 257 + "abcdef", "at most 256"),
])
def test_weak_passwords_are_refused(password, why):
    found = passwords.problems(password, "mettejensen")
    assert any(why in p for p in found), found


@pytest.mark.parametrize("password", ["correct horse battery", "Blåbærgrød-med-fløde 7",
                                      "t8#Lq2!vZp0mWx", "kalenderen hænger skævt"])
def test_good_passwords_pass(password):
    assert passwords.problems(password, "mettejensen") == []


def test_the_common_list_is_the_shipped_data_file():
    common = passwords.common_passwords()
    assert len(common) > 19_000
    assert "password" in common and "kodeord" in common and "qwerty123456" in common
    with passwords.COMMON_FILE.open(encoding="utf-8") as f:
        first = f.readline().strip()
    assert first.lower() in common


def test_cli_refuses_aaaaaaaaaa_as_an_admin_password(engine):
    runner = CliRunner()
    result = runner.invoke(main, ["users", "add", "root2", "--role", "admin", "--password", "aaaaaaaaaa"])
    assert result.exit_code != 0 and "at least 12 characters" in result.output
    result = runner.invoke(main, ["users", "add", "root2", "--role", "admin", "--password", "root2-password-x"])
    assert result.exit_code != 0 and "username" in result.output
    assert "root2" not in runner.invoke(main, ["users", "list"]).output
    result = runner.invoke(main, ["users", "add", "root2", "--role", "admin", "--password", "a sound passphrase"])
    assert result.exit_code == 0, result.output


def test_set_password_applies_the_policy_and_keeps_the_old_one(engine, make_user):
    make_user("bo", "auditor")
    result = CliRunner().invoke(main, ["users", "set-password", "bo", "--password", "qwertyuiop[]"])
    assert result.exit_code != 0 and "commonly used" in result.output
    from sqlmodel import Session

    from audit.auth import authenticate
    from tests.accounts.conftest import PASSWORD
    with Session(engine) as s:
        assert authenticate(s, "bo", PASSWORD) is not None


def test_add_user_refuses_a_password_equal_to_the_username(session):
    with pytest.raises(AccountError, match="username"):
        add_user(session, username="administrator1", password="administrator1", role="admin")
