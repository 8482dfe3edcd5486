"""Backup and restore of the data dir: a consistent snapshot of every knowledge base and of the
app's SQLite database (conversations, feedback), restored and verified.

The snapshot is taken through the store's API, not by copying Chroma's files: only committed
documents are exported (a write in progress is not half-copied), it works the same against a
Chroma server, and it does not depend on Chroma's on-disk format. SQLite is copied with its
online backup API. The archive (.tar.gz) holds:

    manifest.json                 format, time, knowledge bases with document/chunk counts
    kb/<name>/documents.jsonl     catalogue records
    kb/<name>/chunks.jsonl        id, text, metadata, embedding of each committed chunk
    app.sqlite3                   conversations and feedback

Temporary plan scopes (``plan-*``) are not backed up.
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
from typing import Any

from advisor.errors import AdvisorError, ConfigError
from vectorstore.store import StoredChunk

FORMAT = "advisor-backup/1"
Progress = Callable[[str], None]


class BackupError(AdvisorError):
    pass


@dataclass(slots=True)
class BackupSummary:
    path: Path
    knowledge_bases: dict[str, dict[str, int]] = field(default_factory=dict)
    conversations: int = 0


def _is_temporary(name: str) -> bool:
    return name.startswith("plan-")


def backup(service: Any, out: Path, *, progress: Progress | None = None) -> BackupSummary:
    if not out.name.endswith(".tar.gz"):
        raise ConfigError("the backup file name must end in .tar.gz")
    out.parent.mkdir(parents=True, exist_ok=True)
    summary = BackupSummary(out)
    with tempfile.TemporaryDirectory(prefix="advisor-backup-") as folder_name:
        folder = Path(folder_name)
        for name in service.list_knowledge_bases():
            if _is_temporary(name):
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
        database = service.settings.data_dir / "app.sqlite3"
        if database.exists():
            with (
                sqlite3.connect(database) as source,
                sqlite3.connect(folder / "app.sqlite3") as copy,
            ):
                source.backup(copy)
            with sqlite3.connect(folder / "app.sqlite3") as copy:
                summary.conversations = copy.execute(
                    "SELECT COUNT(*) FROM conversations"
                ).fetchone()[0]
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "knowledge_bases": summary.knowledge_bases,
            "conversations": summary.conversations,
        }
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        tmp = out.with_name(f".{out.name}.tmp")
        with tarfile.open(tmp, "w:gz") as tar:
            for path in sorted(folder.rglob("*")):
                tar.add(path, arcname=str(path.relative_to(folder)), recursive=False)
        tmp.replace(out)
    return summary


def restore(
    service: Any, archive: Path, *, force: bool = False, progress: Progress | None = None
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
        database = service.settings.data_dir / "app.sqlite3"
        if not force:
            busy = [
                name
                for name in manifest["knowledge_bases"]
                if name in service.list_knowledge_bases()
                and not service.knowledge_base(name).is_empty()
            ]
            if busy or (database.exists() and (folder / "app.sqlite3").exists()):
                what = ", ".join(busy) or "the conversations database"
                raise BackupError(f"the data dir already holds {what}; use --force to replace")
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
        if (folder / "app.sqlite3").exists():
            database.parent.mkdir(parents=True, exist_ok=True)
            with sqlite3.connect(folder / "app.sqlite3") as source, sqlite3.connect(database) as db:
                source.backup(db)
            with sqlite3.connect(database) as db:
                summary.conversations = db.execute("SELECT COUNT(*) FROM conversations").fetchone()[
                    0
                ]
            if summary.conversations != manifest.get("conversations", 0):
                raise BackupError("restore of the conversations database incomplete")
    return summary
