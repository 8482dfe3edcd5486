"""A user's own space: their uploaded plans and their batch and review results.

Plans live in a knowledge base of their own, ``plans-<digest of the user name>``, never in the
shared one (an administrator who wants a plan there uploads it on the knowledge-base page).
Results (a batch's answer records, a review's report) are kept in the app database
(``app.sqlite3``, table ``jobs``) with their owner. Every operation goes through a
``Workspace`` bound to one user: it names only that user's knowledge base and filters every
query by owner, so a document id or job id of somebody else is simply "not found".
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from advisor.errors import InputFileError, NotFoundError
from advisor.kbnames import plans_kb_name
from advisor.sqlite import connect, create
from vectorstore.retrieval import RetrievalFilter
from vectorstore.store import DocumentNotFoundError, DocumentRecord

if TYPE_CHECKING:
    from ingest.pipeline import IngestProgress, IngestReport
    from vectorstore.store import KnowledgeBase

JOB_KINDS = ("batch", "review")

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('batch', 'review')),
    title TEXT NOT NULL,
    created_at TEXT NOT NULL,
    result TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_owner ON jobs(owner, created_at);
"""


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    owner: str
    kind: str
    title: str
    created_at: str
    result: Any


class JobStore:
    """Batch and review results, per owner, in the app database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        create(path, SCHEMA)

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        return connect(self.path)

    def add(self, owner: str, kind: str, title: str, result: Any) -> Job:
        if kind not in JOB_KINDS:
            raise ValueError(f"unknown job kind {kind!r}")
        job = Job(
            uuid.uuid4().hex,
            owner,
            kind,
            " ".join(title.split())[:200] or kind,
            datetime.now(UTC).isoformat(timespec="seconds"),
            result,
        )
        with self._connect() as db:
            db.execute(
                "INSERT INTO jobs VALUES (?, ?, ?, ?, ?, ?)",
                (
                    job.id,
                    owner,
                    kind,
                    job.title,
                    job.created_at,
                    json.dumps(result, ensure_ascii=False),
                ),
            )
        return job

    def list(self, owner: str) -> list[Job]:
        """The owner's jobs, newest first, without their results (cheap to list)."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, owner, kind, title, created_at FROM jobs WHERE owner = ? "
                "ORDER BY created_at DESC, rowid DESC",
                (owner,),
            ).fetchall()
        return [Job(**dict(r), result=None) for r in rows]

    def get(self, job_id: str, owner: str) -> Job:
        with self._connect() as db:
            row = db.execute(
                "SELECT * FROM jobs WHERE id = ? AND owner = ?", (job_id, owner)
            ).fetchone()
        if row is None:
            raise NotFoundError(job_id)
        values = dict(row)
        values["result"] = json.loads(values["result"])
        return Job(**values)

    def delete(self, job_id: str, owner: str) -> None:
        with self._connect() as db:
            done = db.execute(
                "DELETE FROM jobs WHERE id = ? AND owner = ?", (job_id, owner)
            ).rowcount
        if not done:
            raise NotFoundError(job_id)

    def delete_all(self, owner: str) -> int:
        with self._connect() as db:
            return db.execute("DELETE FROM jobs WHERE owner = ?", (owner,)).rowcount


class KnowledgeBases(Protocol):
    """What a workspace needs of the knowledge bases (``AdvisorService.workspace`` gives it
    the service's): a workspace holds no reference to the service."""

    def exists(self, name: str) -> bool: ...
    def open(self, name: str) -> KnowledgeBase: ...
    def ingest_plans(
        self, paths: list[Path], name: str, progress: IngestProgress | None
    ) -> IngestReport: ...
    def drop(self, name: str) -> None: ...


class Workspace:
    """One user's plans and results. Obtain it with ``AdvisorService.workspace(user)``."""

    def __init__(self, owner: str, *, kbs: KnowledgeBases, jobs: JobStore, shared_kb: str) -> None:
        if not owner:
            raise ValueError("a workspace needs an owner")
        self.owner = owner
        self.kb_name = plans_kb_name(owner)
        self.kbs = kbs
        self.shared_kb = shared_kb
        self._jobs = jobs

    # ---------------------------------------------------------------- plans

    def add_plans(
        self, paths: Iterable[Path], *, progress: IngestProgress | None = None
    ) -> IngestReport:
        """Index plans into this user's knowledge base; per-file failures are in the report
        (nothing of a failed file is kept)."""
        return self.kbs.ingest_plans(list(paths), self.kb_name, progress)

    def _plans_kb_exists(self) -> bool:
        return self.kbs.exists(self.kb_name)

    def plans(self) -> list[DocumentRecord]:
        if not self._plans_kb_exists():
            return []
        return self.kbs.open(self.kb_name).list_documents()

    def plan(self, doc: str) -> DocumentRecord:
        """One of this user's plans, by id or file name."""
        if self._plans_kb_exists():
            record = self.kbs.open(self.kb_name).get_document(doc)
            if record is not None:
                return record
        raise NotFoundError(doc)

    def delete_plan(self, doc: str) -> DocumentRecord:
        if not self._plans_kb_exists():
            raise NotFoundError(doc)
        try:
            return self.kbs.open(self.kb_name).delete_document(doc)
        except DocumentNotFoundError as exc:
            raise NotFoundError(doc) from exc

    def plan_search(
        self, docs: Sequence[str], flt: RetrievalFilter | None = None
    ) -> tuple[list[str], RetrievalFilter]:
        """Knowledge bases and filter for answering over the shared knowledge base plus the
        chosen plans of this user (and no other of their plans)."""
        mine = self.plans()  # one look at the store, however many plans are chosen
        by_name = {key: p.doc_id for p in mine for key in (p.doc_id, p.source)}
        missing = [doc for doc in docs if doc not in by_name]
        if missing:
            raise NotFoundError(missing[0])
        ids = frozenset(by_name[doc] for doc in docs)
        base = flt or RetrievalFilter()
        if not ids:
            return [self.shared_kb], base
        scoped = RetrievalFilter(kinds=base.kinds, docs={**(base.docs or {}), self.kb_name: ids})
        return [self.shared_kb, self.kb_name], scoped

    def plan_passages(self, doc: str) -> list[Any]:
        """Every chunk of one plan as passages, in document order (for grading)."""
        from advisor.review import kb_passages

        record = self.plan(doc)
        passages = kb_passages(self.kbs.open(self.kb_name), where={"doc_id": record.doc_id})
        if not passages:
            raise InputFileError(f"plan {record.source} holds no text")
        return passages

    # ---------------------------------------------------------------- results

    def save_result(self, kind: str, title: str, result: Any) -> Job:
        return self._jobs.add(self.owner, kind, title, result)

    def results(self) -> list[Job]:
        return self._jobs.list(self.owner)

    def result(self, job_id: str) -> Job:
        return self._jobs.get(job_id, self.owner)

    def delete_result(self, job_id: str) -> None:
        self._jobs.delete(job_id, self.owner)

    # ---------------------------------------------------------------- everything

    def purge(self) -> None:
        """Remove this user's plans and results (when the user is deleted)."""
        if self._plans_kb_exists():
            self.kbs.drop(self.kb_name)
        self._jobs.delete_all(self.owner)
