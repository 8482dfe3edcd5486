"""Chat conversations kept across restarts: SQLite under the data dir (``app.sqlite3``).

A conversation has an owner (``local`` until accounts exist), a title and its messages; an
assistant message stores the answer's full record (citations, contexts, refused) so that a
reopened conversation shows the same sources. Feedback (thumbs up/down and a comment) is kept
per answer. Every method opens its own connection, so the store is safe to share between
Streamlit sessions (threads) and processes; SQLite serialises the writes.
"""

from __future__ import annotations

import io
import json
import sqlite3
import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from advisor.errors import ConversationNotFoundError
from advisor.reports import cite_line
from advisor.sqlite import connect, create

SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    title TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content TEXT NOT NULL,
    record TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages(conversation_id, id);
CREATE TABLE IF NOT EXISTS feedback (
    message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    rating INTEGER NOT NULL CHECK (rating IN (0, 1)),
    comment TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
"""

UNTITLED = "新对话 New conversation"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class Conversation:
    id: str
    owner: str
    title: str
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    conversation_id: str
    role: str
    content: str
    record: dict[str, Any] | None
    created_at: str
    rating: int | None = None  # 1 up, 0 down, None not rated
    comment: str = ""


class ConversationStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        create(path, SCHEMA)

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        return connect(self.path)

    # ---------------------------------------------------------------- conversations

    def create(self, owner: str = "local", title: str = UNTITLED) -> Conversation:
        now = _now()
        conversation = Conversation(uuid.uuid4().hex, owner, title, now, now)
        with self._connect() as db:
            db.execute(
                "INSERT INTO conversations VALUES (?, ?, ?, ?, ?)",
                (conversation.id, owner, title, now, now),
            )
        return conversation

    def list_conversations(self, owner: str = "local") -> list[Conversation]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT * FROM conversations WHERE owner = ? ORDER BY updated_at DESC, rowid DESC",
                (owner,),
            ).fetchall()
        return [Conversation(**dict(r)) for r in rows]

    def get(self, conversation_id: str, owner: str = "local") -> Conversation:
        with self._connect() as db:
            row = db.execute(
                "SELECT * FROM conversations WHERE id = ? AND owner = ?", (conversation_id, owner)
            ).fetchone()
        if row is None:
            raise ConversationNotFoundError(conversation_id)
        return Conversation(**dict(row))

    def rename(self, conversation_id: str, title: str, owner: str = "local") -> None:
        title = " ".join(title.split())[:120]
        if not title:
            raise ValueError("a conversation needs a title")
        with self._connect() as db:
            done = db.execute(
                "UPDATE conversations SET title = ?, updated_at = ? WHERE id = ? AND owner = ?",
                (title, _now(), conversation_id, owner),
            ).rowcount
        if not done:
            raise ConversationNotFoundError(conversation_id)

    def delete(self, conversation_id: str, owner: str = "local") -> None:
        with self._connect() as db:
            done = db.execute(
                "DELETE FROM conversations WHERE id = ? AND owner = ?", (conversation_id, owner)
            ).rowcount
        if not done:
            raise ConversationNotFoundError(conversation_id)

    def delete_all(self, owner: str) -> int:
        """Every conversation of ``owner`` (when the user is deleted); returns how many."""
        with self._connect() as db:
            return db.execute("DELETE FROM conversations WHERE owner = ?", (owner,)).rowcount

    # ---------------------------------------------------------------- messages

    def add_message(
        self,
        conversation_id: str,
        role: str,
        content: str,
        record: dict[str, Any] | None = None,
        owner: str = "local",
    ) -> int:
        conversation = self.get(conversation_id, owner)
        now = _now()
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO messages (conversation_id, role, content, record, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    conversation_id,
                    role,
                    content,
                    json.dumps(record, ensure_ascii=False) if record is not None else None,
                    now,
                ),
            )
            # the first question names an untitled conversation
            title = conversation.title
            if role == "user" and title == UNTITLED:
                title = " ".join(content.split())[:40] or UNTITLED
            db.execute(
                "UPDATE conversations SET updated_at = ?, title = ? WHERE id = ?",
                (now, title, conversation_id),
            )
            return int(cursor.lastrowid or 0)

    def messages(self, conversation_id: str, owner: str = "local") -> list[Message]:
        self.get(conversation_id, owner)
        with self._connect() as db:
            rows = db.execute(
                "SELECT m.*, f.rating, f.comment FROM messages m "
                "LEFT JOIN feedback f ON f.message_id = m.id "
                "WHERE m.conversation_id = ? ORDER BY m.id",
                (conversation_id,),
            ).fetchall()
        return [
            Message(
                id=r["id"],
                conversation_id=r["conversation_id"],
                role=r["role"],
                content=r["content"],
                record=json.loads(r["record"]) if r["record"] else None,
                created_at=r["created_at"],
                rating=r["rating"],
                comment=r["comment"] or "",
            )
            for r in rows
        ]

    def history(self, conversation_id: str, owner: str = "local") -> list[dict[str, str]]:
        """The turns in the chain's history format."""
        return [
            {"role": m.role, "content": m.content} for m in self.messages(conversation_id, owner)
        ]

    def set_feedback(
        self, message_id: int, rating: int, comment: str = "", owner: str = "local"
    ) -> None:
        if rating not in (0, 1):
            raise ValueError("rating is 1 (helpful) or 0 (not helpful)")
        with self._connect() as db:
            row = db.execute(
                "SELECT m.role FROM messages m JOIN conversations c ON c.id = m.conversation_id "
                "WHERE m.id = ? AND c.owner = ?",
                (message_id, owner),
            ).fetchone()
            if row is None or row["role"] != "assistant":
                raise ConversationNotFoundError(f"answer {message_id}")
            db.execute(
                "INSERT INTO feedback VALUES (?, ?, ?, ?) ON CONFLICT(message_id) DO UPDATE "
                "SET rating = excluded.rating, comment = excluded.comment, "
                "created_at = excluded.created_at",
                (message_id, rating, comment.strip()[:2000], _now()),
            )

    # ---------------------------------------------------------------- export

    def export_markdown(self, conversation_id: str, owner: str = "local") -> str:
        conversation = self.get(conversation_id, owner)
        lines = [f"# {conversation.title}", "", f"<sub>{conversation.created_at}</sub>", ""]
        for m in self.messages(conversation_id, owner):
            if m.role == "user":
                lines += [f"## 问 · Q: {m.content}", ""]
                continue
            lines += [m.content, ""]
            lines += [f"- {cite_line(c)}" for c in (m.record or {}).get("citations", [])]
            if m.rating is not None:
                lines += ["", f"<sub>{'👍' if m.rating else '👎'} {m.comment}</sub>"]
            lines.append("")
        return "\n".join(lines)

    def export_docx(self, conversation_id: str, owner: str = "local") -> bytes:
        import docx

        conversation = self.get(conversation_id, owner)
        document = docx.Document()
        document.add_heading(conversation.title, level=0)
        document.add_paragraph(conversation.created_at)
        for m in self.messages(conversation_id, owner):
            if m.role == "user":
                document.add_heading(f"问 · Q: {m.content}", level=2)
                continue
            document.add_paragraph(m.content)
            for c in (m.record or {}).get("citations", []):
                document.add_paragraph(cite_line(c), style="List Bullet")
        buffer = io.BytesIO()
        document.save(buffer)
        return buffer.getvalue()
