"""Backup and restore of the data dir: a consistent snapshot of every knowledge base (the shared
ones and each user's plans) and of the app's SQLite databases (conversations, feedback, batch
and review results; accounts), restored and verified.

The snapshot is taken through the store's API, not by copying Chroma's files: only committed
documents are exported (a write in progress is not half-copied), it works the same against a
Chroma server, and it does not depend on Chroma's on-disk format. SQLite is copied with its
online backup API. The archive (.tar.gz) holds:

    manifest.json                 format, time, knowledge bases with document/chunk counts
    kb/<name>/documents.jsonl     catalogue records
    kb/<name>/chunks.jsonl        id, text, metadata, embedding of each committed chunk
    app.sqlite3                   conversations, feedback, batch and review results
    accounts.sqlite3              users and password hashes (no sessions: signed-in browsers
                                  sign in again after a restore)

Temporary plan scopes (``plan-*``) are not backed up. The archive holds password hashes and
users' plans: keep it as private as the data dir.
"""

from __future__ import annotations

import json
import sqlite3
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from advisor.errors import BackupError, ConfigError
from advisor.kbnames import is_temporary_plan_kb
from vectorstore.store import StoredChunk

if TYPE_CHECKING:
    from advisor.service import AdvisorService

FORMAT = "advisor-backup/1"
Progress = Callable[[str], None]


#: the SQLite databases of the data dir and the tables whose rows a restore verifies
DATABASES = {
    "app.sqlite3": ("conversations", "messages", "feedback", "jobs"),
    "accounts.sqlite3": ("users",),
}
#: copied tables emptied in the archive: live sign-ins and failure counters are not state
#: worth restoring
TRANSIENT = {"accounts.sqlite3": ("sessions", "failures", "address_failures")}


def _row_counts(path: Path, tables: tuple[str, ...]) -> dict[str, int]:
    db = sqlite3.connect(path)
    try:
        present = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        return {
            t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]  # fixed table names
            for t in tables
            if t in present
        }
    finally:
        db.close()


def _copy_database(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy even while the app writes."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    dst.close()
    src.close()


@dataclass(slots=True)
class BackupSummary:
    path: Path
    knowledge_bases: dict[str, dict[str, int]] = field(default_factory=dict)
    databases: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def conversations(self) -> int:
        return self.databases.get("app.sqlite3", {}).get("conversations", 0)

    @property
    def users(self) -> int:
        return self.databases.get("accounts.sqlite3", {}).get("users", 0)


def backup(
    service: AdvisorService, out: Path, *, progress: Progress | None = None
) -> BackupSummary:
    if not out.name.endswith(".tar.gz"):
        raise ConfigError("the backup file name must end in .tar.gz")
    out.parent.mkdir(parents=True, exist_ok=True)
    summary = BackupSummary(out)
    with tempfile.TemporaryDirectory(prefix="advisor-backup-") as folder_name:
        folder = Path(folder_name)
        for name in service.list_knowledge_bases():
            if is_temporary_plan_kb(name):
                continue
            kb = service.knowledge_base(name)
            kb.repair()  # finish or roll back an interrupted write before reading
            target = folder / "kb" / name
            target.mkdir(parents=True)
            records = kb.raw_catalogue()
            with (target / "documents.jsonl").open("w", encoding="utf-8") as fh:
                for record in records:
                    fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            chunks = 0
            with (target / "chunks.jsonl").open("w", encoding="utf-8") as fh:
                for chunk in kb.iter_chunks(embeddings=True):
                    row = {
                        "id": chunk.chunk_id,
                        "text": chunk.text,
                        "metadata": chunk.metadata,
                        "embedding": [round(float(x), 7) for x in chunk.embedding],
                    }
                    fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                    chunks += 1
            summary.knowledge_bases[name] = {"documents": len(records), "chunks": chunks}
            if progress:
                progress(name)
        for db_name, tables in DATABASES.items():
            database = service.settings.data_dir / db_name
            if not database.exists():
                continue
            copy = folder / db_name
            _copy_database(database, copy)
            with sqlite3.connect(copy) as db:
                for table in TRANSIENT.get(db_name, ()):
                    db.execute(f"DELETE FROM {table}")  # fixed table names
            db.close()
            summary.databases[db_name] = _row_counts(copy, tables)
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "knowledge_bases": summary.knowledge_bases,
            "databases": summary.databases,
        }
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        tmp = out.with_name(f".{out.name}.tmp")
        with tarfile.open(tmp, "w:gz") as tar:
            for path in sorted(folder.rglob("*")):
                tar.add(path, arcname=str(path.relative_to(folder)), recursive=False)
        tmp.replace(out)
    return summary


def restore(
    service: AdvisorService, archive: Path, *, force: bool = False, progress: Progress | None = None
) -> BackupSummary:
    """Restore ``archive`` into the service's data dir. Refuses to overwrite knowledge bases
    that hold documents, or existing conversations, unless ``force``; then verifies that every
    knowledge base has the documents and chunks the manifest lists."""
    if not archive.is_file():
        raise ConfigError(f"no such backup: {archive}")
    with tempfile.TemporaryDirectory(prefix="advisor-restore-") as folder_name:
        folder = Path(folder_name)
        try:
            with tarfile.open(archive, "r:gz") as tar:
                tar.extractall(folder, filter="data")
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        except (tarfile.TarError, OSError, json.JSONDecodeError, KeyError) as exc:
            raise BackupError(f"{archive.name} is not a readable backup: {exc}") from exc
        if manifest.get("format") != FORMAT:
            raise BackupError(f"{archive.name}: unknown backup format {manifest.get('format')!r}")
        data_dir = service.settings.data_dir
        archived = [name for name in DATABASES if (folder / name).exists()]
        if not force:
            busy = [
                name
                for name in manifest["knowledge_bases"]
                if name in service.list_knowledge_bases()
                and not service.knowledge_base(name).is_empty()
            ]
            busy += [
                name
                for name in archived
                if (data_dir / name).exists()
                and any(_row_counts(data_dir / name, DATABASES[name]).values())
            ]
            if busy:
                raise BackupError(
                    f"the data dir already holds {', '.join(busy)}; use --force to replace"
                )
        summary = BackupSummary(archive)
        for name, counts in manifest["knowledge_bases"].items():
            kb = service.knowledge_base(name)
            for record in kb.list_documents():  # --force: the backup replaces what is there
                kb.delete_document(record.doc_id)
            by_doc: dict[str, list[StoredChunk]] = {}
            with (folder / "kb" / name / "chunks.jsonl").open(encoding="utf-8") as fh:
                for line in fh:
                    row = json.loads(line)
                    chunk = StoredChunk(row["id"], row["text"], row["metadata"], row["embedding"])
                    by_doc.setdefault(str(row["metadata"]["doc_id"]), []).append(chunk)
            with (folder / "kb" / name / "documents.jsonl").open(encoding="utf-8") as fh:
                for line in fh:
                    record = json.loads(line)
                    kb.restore_document(record, by_doc.get(str(record["doc_id"]), []))
            restored = {
                "documents": len(kb.list_documents()),
                "chunks": sum(1 for _ in kb.iter_chunks()),
            }
            if restored != counts:
                raise BackupError(f"restore of {name!r} incomplete: {restored} != {counts}")
            summary.knowledge_bases[name] = restored
            if progress:
                progress(name)
        expected = manifest.get("databases", {})
        for name in archived:
            data_dir.mkdir(parents=True, exist_ok=True)
            _copy_database(folder / name, data_dir / name)
            restored_rows = _row_counts(data_dir / name, DATABASES[name])
            if name in expected and restored_rows != expected[name]:
                raise BackupError(
                    f"restore of {name} incomplete: {restored_rows} != {expected[name]}"
                )
            summary.databases[name] = restored_rows
    return summary
