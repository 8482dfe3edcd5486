"""Accounts for a shared deployment: users with roles, salted slow password hashes, expiring
sessions, and slowed-down repeated failed logins. SQLite under the data dir
(``accounts.sqlite3``).

- Passwords: scrypt (n=2**14, r=8, p=1) with a 16-byte random salt per user; compared in
  constant time. There is no default password: the first administrator is created on the
  command line (``python -m advisor user add NAME --admin``).
- Roles: ``admin`` (manages the shared knowledge base and the users) and ``member`` (chats,
  runs batches and reviews their own plans).
- Sessions: a random token, valid for ``session_hours`` after login.
- Failed logins: after 3 failures for a name, each further attempt waits 2^(n-3) s (at most
  30 s) before it is even checked, so guessing is slow; a success clears the count. The same
  holds per client address after 10 failures within 15 minutes, whatever names were tried
  (several colleagues may share an address), so spraying many names is slow too; a success
  does not clear an address's count, its failures expire.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from advisor.errors import AccountError
from advisor.sqlite import connect, create

ROLES = ("admin", "member")
SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
FREE_FAILURES = 3
ADDRESS_FREE_FAILURES = 10
ADDRESS_WINDOW_S = 15 * 60
MAX_DELAY_S = 30.0
MIN_PASSWORD = 10

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    salt BLOB NOT NULL,
    hash BLOB NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token TEXT PRIMARY KEY,
    name TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS failures (
    name TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    last_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS address_failures (
    address TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    last_at REAL NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _hash(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, **SCRYPT)


def _backoff(failures: int, free: int) -> float:
    """No wait for the first ``free`` failures, then 1, 2, 4 … seconds, at most MAX_DELAY_S."""
    return 0.0 if failures < free else min(2.0 ** (failures - free), MAX_DELAY_S)


def generate_password() -> str:
    return secrets.token_urlsafe(12)


class AccountStore:
    def __init__(self, path: Path, *, session_hours: float = 12.0) -> None:
        #: how a login waits out its delay (a test records it instead of waiting)
        self.sleep: Callable[[float], None] = time.sleep
        self.path = path
        self.session_s = session_hours * 3600
        create(path, SCHEMA)

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        return connect(self.path)

    # ---------------------------------------------------------------- users

    def add_user(self, name: str, password: str, role: str = "member") -> User:
        name = name.strip()
        if not name or len(name) > 64 or any(ch.isspace() for ch in name):
            raise AccountError("a user name is 1-64 characters without spaces")
        if role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}")
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
        salt = secrets.token_bytes(16)
        try:
            with self._connect() as db:
                db.execute(
                    "INSERT INTO users VALUES (?, ?, ?, ?, ?)",
                    (name, role, salt, _hash(password, salt), time.time()),
                )
        except sqlite3.IntegrityError as exc:
            raise AccountError(f"user {name!r} already exists") from exc
        return User(name, role)

    def set_password(self, name: str, password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
        salt = secrets.token_bytes(16)
        with self._connect() as db:
            done = db.execute(
                "UPDATE users SET salt = ?, hash = ? WHERE name = ?",
                (salt, _hash(password, salt), name),
            ).rowcount
            db.execute("DELETE FROM sessions WHERE name = ?", (name,))
        if not done:
            raise AccountError(f"no user {name!r}")

    def delete_user(self, name: str) -> None:
        with self._connect() as db:
            done = db.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount
        if not done:
            raise AccountError(f"no user {name!r}")

    def users(self) -> list[User]:
        with self._connect() as db:
            rows = db.execute("SELECT name, role FROM users ORDER BY name").fetchall()
        return [User(r["name"], r["role"]) for r in rows]

    def has_admin(self) -> bool:
        return any(u.is_admin for u in self.users())

    # ---------------------------------------------------------------- login

    def login_delay(self, name: str, address: str | None = None) -> float:
        """Seconds the next attempt for ``name`` (from ``address``) waits before it is checked."""
        with self._connect() as db:
            row = db.execute("SELECT count FROM failures WHERE name = ?", (name,)).fetchone()
            by_address = (
                db.execute(
                    "SELECT count FROM address_failures WHERE address = ? AND last_at > ?",
                    (address, time.time() - ADDRESS_WINDOW_S),
                ).fetchone()
                if address
                else None
            )
        return max(
            _backoff(int(row["count"]) if row else 0, FREE_FAILURES),
            _backoff(int(by_address["count"]) if by_address else 0, ADDRESS_FREE_FAILURES),
        )

    def login(
        self, name: str, password: str, *, address: str | None = None, sleep: bool = True
    ) -> str:
        """A session token for a correct name and password; AccountError otherwise (the same
        message whether the name or the password was wrong). ``address`` is the client's
        network address, when known."""
        delay = self.login_delay(name, address)
        if delay and sleep:
            self.sleep(delay)
        with self._connect() as db:
            row = db.execute("SELECT salt, hash FROM users WHERE name = ?", (name,)).fetchone()
        # hash even for an unknown name, so timing does not tell which names exist
        salt = row["salt"] if row else b"\0" * 16
        ok = hmac.compare_digest(_hash(password, salt), row["hash"] if row else b"\1" * 32)
        if not (ok and row):
            now = time.time()
            with self._connect() as db:  # committed before the error is raised
                db.execute(
                    "INSERT INTO failures VALUES (?, 1, ?) ON CONFLICT(name) DO UPDATE "
                    "SET count = count + 1, last_at = excluded.last_at",
                    (name, now),
                )
                if address:  # an expired count starts again at 1
                    db.execute(
                        "INSERT INTO address_failures VALUES (?, 1, ?) ON CONFLICT(address) "
                        "DO UPDATE SET count = CASE WHEN last_at > ? THEN count + 1 ELSE 1 END, "
                        "last_at = excluded.last_at",
                        (address, now, now - ADDRESS_WINDOW_S),
                    )
            raise AccountError("wrong user name or password")
        with self._connect() as db:
            db.execute("DELETE FROM failures WHERE name = ?", (name,))
            token = secrets.token_urlsafe(32)
            db.execute(
                "INSERT INTO sessions VALUES (?, ?, ?)", (token, name, time.time() + self.session_s)
            )
            db.execute("DELETE FROM sessions WHERE expires_at < ?", (time.time(),))
        return token

    def user_for(self, token: str | None) -> User | None:
        """The user of a live session, or None (unknown or expired token)."""
        if not token:
            return None
        with self._connect() as db:
            row = db.execute(
                "SELECT u.name, u.role, s.expires_at FROM sessions s "
                "JOIN users u ON u.name = s.name WHERE s.token = ?",
                (token,),
            ).fetchone()
        if row is None or row["expires_at"] < time.time():
            return None
        return User(row["name"], row["role"])

    def logout(self, token: str) -> None:
        with self._connect() as db:
            db.execute("DELETE FROM sessions WHERE token = ?", (token,))
