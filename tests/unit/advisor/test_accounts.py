"""Accounts (advisor/accounts.py) and the `user` command: salted slow hashes, no default
password, roles, expiring sessions, slowed-down failed logins."""

from __future__ import annotations

import io
import sqlite3
import time

import pytest

from advisor.accounts import AccountStore
from advisor.cli import main
from advisor.errors import AccountError


@pytest.fixture()
def store(tmp_path) -> AccountStore:
    return AccountStore(tmp_path / "accounts.sqlite3", session_hours=1)


def test_passwords_are_stored_as_salted_scrypt_hashes(store, tmp_path) -> None:
    store.add_user("alice", "correct horse battery")
    store.add_user("bob", "correct horse battery")
    with sqlite3.connect(tmp_path / "accounts.sqlite3") as db:
        rows = db.execute("SELECT salt, hash FROM users").fetchall()
    assert len({bytes(r[0]) for r in rows}) == 2 and len({bytes(r[1]) for r in rows}) == 2
    assert all(b"correct" not in bytes(r[1]) for r in rows)


def test_login_session_and_logout(store) -> None:
    store.add_user("alice", "correct horse battery", "admin")
    token = store.login("alice", "correct horse battery")
    user = store.user_for(token)
    assert user is not None and user.name == "alice" and user.is_admin
    store.logout(token)
    assert store.user_for(token) is None
    assert store.user_for("made-up") is None and store.user_for(None) is None


def test_wrong_password_and_unknown_user_look_the_same(store) -> None:
    store.add_user("alice", "correct horse battery")
    with pytest.raises(AccountError, match="wrong user name or password") as wrong:
        store.login("alice", "nope nope nope", sleep=False)
    with pytest.raises(AccountError, match="wrong user name or password") as unknown:
        store.login("mallory", "nope nope nope", sleep=False)
    assert str(wrong.value) == str(unknown.value)


def test_repeated_failures_are_slowed_down_and_success_clears_them(store) -> None:
    store.add_user("alice", "correct horse battery")
    delays = []
    for _ in range(6):
        with pytest.raises(AccountError):
            store.login("alice", "guess guess guess", sleep=False)
        delays.append(store.login_delay("alice"))
    assert delays == [0.0, 0.0, 1.0, 2.0, 4.0, 8.0]
    waited: list[float] = []
    store.sleep = waited.append  # recorded instead of waited for
    store.login("alice", "correct horse battery")  # waits out the delay first
    assert waited == [8.0]
    assert store.login_delay("alice") == 0.0


def test_many_names_tried_from_one_address_are_slowed_down(store) -> None:
    """Spraying passwords over many names from one address: after 10 failures the address
    waits, whichever name comes next; another address does not; failures expire."""
    from advisor import accounts

    store.add_user("alice", "correct horse battery")
    for n in range(12):
        with pytest.raises(AccountError):
            store.login(f"user{n}", "guess guess guess", address="10.0.0.9", sleep=False)
    assert store.login_delay("someone-new", "10.0.0.9") == 4.0  # 12 failures: 2^(12-10)
    assert store.login_delay("someone-new", "10.0.0.7") == 0.0
    assert store.login_delay("someone-new") == 0.0  # no address known: by name only
    # a correct sign-in from that address waits too, and does not clear the address's count
    store.login("alice", "correct horse battery", address="10.0.0.9", sleep=False)
    assert store.login_delay("alice", "10.0.0.9") == 4.0
    # after the window the address starts again
    with store._connect() as db:
        db.execute(
            "UPDATE address_failures SET last_at = last_at - ?", (accounts.ADDRESS_WINDOW_S,)
        )
    assert store.login_delay("someone-new", "10.0.0.9") == 0.0
    with pytest.raises(AccountError):
        store.login("user0", "guess guess guess", address="10.0.0.9", sleep=False)
    with store._connect() as db:
        [count] = db.execute("SELECT count FROM address_failures").fetchone()
    assert count == 1


def test_sessions_expire(tmp_path) -> None:
    store = AccountStore(tmp_path / "a.sqlite3", session_hours=0.5 / 3600)  # half a second
    store.add_user("alice", "correct horse battery")
    token = store.login("alice", "correct horse battery")
    assert store.user_for(token) is not None
    time.sleep(0.7)
    assert store.user_for(token) is None


def test_password_change_ends_sessions_and_rules_are_enforced(store) -> None:
    store.add_user("alice", "correct horse battery")
    token = store.login("alice", "correct horse battery")
    store.set_password("alice", "another long password")
    assert store.user_for(token) is None
    with pytest.raises(AccountError, match="at least 10"):
        store.add_user("bob", "short")
    with pytest.raises(AccountError, match="already exists"):
        store.add_user("alice", "correct horse battery")
    with pytest.raises(AccountError, match="without spaces"):
        store.add_user("a b", "correct horse battery")
    with pytest.raises(AccountError, match="role"):
        store.add_user("carol", "correct horse battery", "root")


def test_user_command_adds_an_admin_with_a_generated_password_shown_once(
    service, monkeypatch, capsys
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal: generate
    assert main(["user", "add", "root-admin", "--admin"], service=service) == 0
    out = capsys.readouterr().out
    assert "added admin root-admin" in out
    password = out.split("password (shown once): ")[1].strip()
    assert len(password) >= 12
    assert service.accounts.user_for(service.accounts.login("root-admin", password)).is_admin

    monkeypatch.setattr("sys.stdin", io.StringIO("member password 1\n"))
    assert main(["user", "add", "wang", "--password-stdin"], service=service) == 0
    assert "shown once" not in capsys.readouterr().out
    assert main(["user", "list"], service=service) == 0
    assert capsys.readouterr().out.splitlines() == ["root-admin\tadmin", "wang\tmember"]
    assert main(["user", "delete", "wang"], service=service) == 0
    assert main(["user", "delete", "wang"], service=service) == 1
    assert "no user 'wang'" in capsys.readouterr().err
