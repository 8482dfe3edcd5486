"""Knowledge bases in Chroma: one chunk collection per knowledge base plus a small catalogue
collection with one record per document.

Chroma has no transactions, so a document is written with a journal-like protocol whose commit
point is the catalogue record (see ``write_document``). Chunk ids derive from the document's
content hash, so a new version never overwrites the chunks of the committed one, and
``repair`` can always bring the store back to exactly one complete version per document after a
crash. Readers trust a chunk only when its ``doc_sha256`` equals the committed record's.

Several writers share a store (Streamlit sessions are threads of one process; several app
processes may share one Chroma server), so ``repair`` must not mistake another writer's write
in progress for a crashed one. Each dirty record names its writer (host:pid) and when it was
marked; ``repair`` resolves it only when the write is known to be over: a write of this process
that is no longer running, a writer process on this host that no longer exists, or a record
older than ``STALE_WRITE_S`` (writers on other hosts). Writes of one document are serialised
within a process.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlparse

import numpy as np

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

log = logging.getLogger(__name__)

CHUNKS_PREFIX = "kb_"
CATALOG_SUFFIX = ".docs"
WRITE_BATCH = 256
_KB_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
#: a dirty record older than this is abandoned whoever wrote it (a document's write is only
#: Chroma upserts: seconds, a minute for the largest files)
STALE_WRITE_S = 600.0

_writes_lock = threading.Lock()
_active_writes: set[tuple[str, str]] = set()  # (knowledge base, doc_id) written now, here
#: writes of one document are serialised through one of these (striped by document: bounded,
#: and two documents rarely share a stripe)
_document_locks = [threading.Lock() for _ in range(64)]


def _writer_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def pid_alive(pid: int) -> bool:
    """Whether a process of this host with ``pid`` runs (someone else's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # somebody else's process: alive
        return True
    return True


class ChunkToWrite(Protocol):
    """What the store reads of a chunk (``ingest.types.Chunk`` is one). The store takes
    protocols, not ingest's types: ingest and vectorstore never import each other."""

    @property
    def text(self) -> str: ...
    @property
    def page(self) -> int | None: ...
    @property
    def section(self) -> str: ...
    @property
    def lang(self) -> str: ...
    @property
    def index(self) -> int: ...
    @property
    def page_breaks(self) -> tuple[tuple[int, int], ...]: ...


class SkippedPageRecord(Protocol):
    @property
    def number(self) -> int | None: ...
    @property
    def reason(self) -> str: ...


class DocumentToWrite(Protocol):
    """What the store reads of a document written as one unit
    (``ingest.types.DocumentToWrite`` is one)."""

    @property
    def source(self) -> str: ...
    @property
    def sha256(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def lang(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def page_count(self) -> int: ...
    @property
    def size_bytes(self) -> int: ...
    @property
    def chunks(self) -> Sequence[ChunkToWrite]: ...
    @property
    def skipped(self) -> Sequence[SkippedPageRecord]: ...
    @property
    def ocr_pages(self) -> Mapping[int, float]: ...
    @property
    def doc_meta(self) -> Mapping[str, str | None]: ...


class StoreError(Exception):
    """A knowledge-base operation that cannot be done (unknown document, bad name, server)."""


class DocumentNotFoundError(StoreError):
    pass


def open_chroma_client(*, path: str | None = None, url: str | None = None) -> ClientAPI:
    """An embedded client persisting under ``path``, or an HTTP client when ``url`` is given
    (e.g. ``http://127.0.0.1:8000`` for a ``chroma run`` server shared by several processes)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if url:
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise StoreError(f"ADVISOR_CHROMA_URL must look like http://host:port, got {url!r}")
        port = parsed.port or (443 if parsed.scheme == "https" else 8000)
        try:
            return chromadb.HttpClient(
                host=parsed.hostname,
                port=port,
                ssl=parsed.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as exc:  # chromadb raises plain exceptions for connection problems
            raise StoreError(f"cannot reach the Chroma server at {url}: {exc}") from exc
    if path is None:
        raise StoreError("either a path or a url is needed for Chroma")
    return chromadb.PersistentClient(path=path, settings=chroma_settings)


def doc_id_for(source: str) -> str:
    """Documents are identified by their file name within a knowledge base."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def chunk_id_for(doc_id: str, doc_sha256: str, index: int) -> str:
    return f"{doc_id}-{doc_sha256[:16]}-{index:05d}"


def check_kb_name(name: str) -> str:
    if not _KB_RE.match(name):
        raise StoreError(
            f"invalid knowledge-base name {name!r}: use 1-63 letters, digits, '.', '_' or '-'"
        )
    return name


def list_knowledge_bases(client: ClientAPI) -> list[str]:
    names = []
    for col in client.list_collections():
        name = col if isinstance(col, str) else col.name
        if name.startswith(CHUNKS_PREFIX) and not name.endswith(CATALOG_SUFFIX):
            names.append(name[len(CHUNKS_PREFIX) :])
    return sorted(names)


@dataclass(slots=True)
class DocumentRecord:
    doc_id: str
    source: str
    kind: str
    lang: str
    pages: int
    chunks: int
    sha256: str
    ingested_at: str
    title: str = ""
    size_bytes: int = 0
    skipped_pages: str = ""  # "3:empty,7:garbled"
    ocr_pages: str = ""  # "1,2,5": pages whose text was read with OCR
    ocr_confidence: float = 0.0  # their mean OCR confidence (0.0: none)
    # what the document is (ingest/metadata.py; an administrator can edit it): "" is unknown
    issuer: str = ""
    doc_number: str = ""
    level: str = "other"  # national | provincial | municipal | college | other
    region: str = ""
    adopted: str = ""  # ISO dates
    revised: str = ""
    effective: str = ""
    status: str = "unknown"  # current | superseded | unknown
    superseded_by: str = ""  # a doc_id
    edited: str = ""  # "level,region": fields an administrator set (kept on re-ingest)

    def to_json(self) -> dict[str, Any]:
        """The contract's ``kb docs --json`` record (plus title, size, OCR provenance with
        ``ocr_pages`` as a list of page numbers, and the document's metadata, unknown
        values as null)."""
        record = asdict(self)
        record["ocr_pages"] = ocr_page_list(self.ocr_pages)
        for key in NULLABLE_META:
            record[key] = record[key] or None
        return record


#: a version note at the end of a title: a year or date, a revision, a draft or a trial text
#: (never a period such as a plan's "（2020—2023年）")
_VERSION_NOTE = re.compile(
    r"[（(](?:\d{4}年(?:\d{1,2}月(?:\d{1,2}日)?)?(?:修订|修正)?(?:版|本|稿)?"
    r"|\d{4}(?:-\d{2}){0,2}|(?:修订|修正)(?:版|本|稿)?|草案|试行)[)）]$"
)


def version_key(title: str) -> str:
    """What versions of one document share: the title without spaces, a trailing version
    note and 《》 ("《中华人民共和国职业教育法》（2022年修订）" -> "中华人民共和国职业教育法")."""
    key = _VERSION_NOTE.sub("", re.sub(r"\s+", "", title))
    return key.replace("《", "").replace("》", "")


#: metadata fields that are null when unknown (Chroma metadata cannot hold None: "" there)
NULLABLE_META = (
    "issuer",
    "doc_number",
    "region",
    "adopted",
    "revised",
    "effective",
    "superseded_by",
)
META_FIELDS = ("title", "level", "status", *NULLABLE_META)


def ocr_page_list(value: str) -> list[int]:
    """``"1,2,5"`` (how chunk and catalogue metadata hold OCR'd pages) as ``[1, 2, 5]``."""
    return [int(item) for item in value.split(",") if item.strip().isdigit()]


@dataclass(slots=True)
class RepairReport:
    documents_repaired: int = 0
    chunks_removed: int = 0
    in_progress: int = 0  # dirty records of writes still running elsewhere: left alone


@dataclass(frozen=True, slots=True)
class StoredChunk:
    chunk_id: str
    text: str
    metadata: dict[str, Any]
    embedding: Any = None  # the stored vector, when asked for


class KnowledgeBase:
    """One knowledge base: its chunk collection and its document catalogue."""

    def __init__(self, client: ClientAPI, name: str, *, create: bool = True) -> None:
        self.name = check_kb_name(name)
        self._client = client
        chunks_name = CHUNKS_PREFIX + name
        if not create and name not in list_knowledge_bases(client):
            raise StoreError(f"knowledge base {name!r} does not exist")
        # embedding_function=None: Chroma's default would download a model at run time.
        self.chunks: Collection = client.get_or_create_collection(
            chunks_name, metadata={"hnsw:space": "cosine"}, embedding_function=None
        )
        self._catalog: Collection = client.get_or_create_collection(
            chunks_name + CATALOG_SUFFIX, embedding_function=None
        )

    # ----------------------------------------------------------------- catalogue

    def _raw_records(self, where: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        got = self._catalog.get(where=where, include=["metadatas"])
        return [dict(m) for m in (got["metadatas"] or [])]

    def _put_record(self, meta: dict[str, Any]) -> None:
        self._put_records([meta])

    def _put_records(self, metas: Sequence[dict[str, Any]]) -> None:
        # the catalogue needs no vector search: a constant 1-d vector satisfies Chroma
        self._catalog.upsert(
            ids=[m["doc_id"] for m in metas],
            embeddings=np.ones((len(metas), 1), dtype=np.float32),
            metadatas=list(metas),
        )

    @staticmethod
    def _record_from_meta(meta: dict[str, Any]) -> DocumentRecord:
        fields = DocumentRecord.__dataclass_fields__
        return DocumentRecord(**{k: v for k, v in meta.items() if k in fields})

    def list_documents(self) -> list[DocumentRecord]:
        """Committed documents, by source name."""
        records = [self._record_from_meta(m) for m in self._raw_records() if m.get("sha256")]
        return sorted(records, key=lambda r: r.source.lower())

    def get_documents(self, doc_ids: Iterable[str]) -> dict[str, DocumentRecord]:
        """The committed records of ``doc_ids`` (one catalogue read), by doc id."""
        ids = sorted(set(doc_ids))
        if not ids:
            return {}
        got = self._catalog.get(ids=ids, include=["metadatas"])
        # a marker record (a write or delete under way) has no sha and is no document yet
        metas = [dict(m) for m in got["metadatas"] or [] if m and m.get("sha256")]
        return {r.doc_id: r for r in (self._record_from_meta(m) for m in metas)}

    def get_document(self, source_or_id: str) -> DocumentRecord | None:
        for doc_id in (source_or_id, doc_id_for(source_or_id)):
            got = self._catalog.get(ids=[doc_id], include=["metadatas"])
            metas = got["metadatas"] or []
            if metas and metas[0].get("sha256"):
                return self._record_from_meta(dict(metas[0]))
        return None

    def committed_sha(self, source: str) -> str | None:
        return self.committed_shas([source]).get(source)

    def committed_shas(self, sources: Sequence[str]) -> dict[str, str]:
        """source -> committed sha256 for those of ``sources`` that are committed (one
        catalogue read for all of them)."""
        records = self.get_documents(doc_id_for(source) for source in sources)
        return {r.source: r.sha256 for r in records.values()}

    def committed_versions(self) -> dict[str, str]:
        """doc_id -> committed sha256, for filtering out chunks of unfinished writes."""
        return {m["doc_id"]: m["sha256"] for m in self._raw_records() if m.get("sha256")}

    def count_chunks(self) -> int:
        return int(self.chunks.count())

    def is_empty(self) -> bool:
        return not self.list_documents()

    # ----------------------------------------------------------------- writing

    def write_document(self, doc: DocumentToWrite, vectors: np.ndarray) -> DocumentRecord:
        """Write ``doc`` as one unit, replacing any earlier version with the same source name
        (``write_documents`` with one document)."""
        return self.write_documents([(doc, vectors)])[0]

    def write_documents(
        self, items: Sequence[tuple[DocumentToWrite, np.ndarray]]
    ) -> list[DocumentRecord]:
        """Write several documents, each as one unit, with the round trips of one write.

        Steps, each one Chroma call for all the documents: (1) mark their catalogue records
        dirty, keeping committed versions visible; (2) add the new chunks under ids that
        contain the new content hash; (3) commit by switching the records to the new hashes;
        (4) delete chunks of other versions (only documents that had a record can have any);
        (5) clear the dirty flags. Every record goes through the steps on its own, so a crash
        anywhere leaves dirty records that ``repair`` resolves, one document at a time, to the
        old version (before its step 3) or the new one (after it). A failure before the commit
        puts every document of the call back as it was.
        """
        if not items:
            return []
        for doc, vecs in items:
            if len(vecs) != len(doc.chunks):
                raise StoreError(f"{doc.source}: one vector per chunk is required")
        doc_ids = [doc_id_for(doc.source) for doc, _ in items]
        if len(set(doc_ids)) != len(doc_ids):
            raise StoreError("a document can be written only once per call")
        with self._writing(*doc_ids) as lease:
            return self._write_documents(items, doc_ids, lease)

    def _write_documents(
        self,
        items: Sequence[tuple[DocumentToWrite, np.ndarray]],
        doc_ids: list[str],
        lease: dict[str, Any],
    ) -> list[DocumentRecord]:
        existing = self._catalog.get(ids=doc_ids, include=["metadatas"])
        previous = {str(m["doc_id"]): dict(m) for m in existing["metadatas"] or []}
        markers: list[dict[str, Any]] = []
        for (doc, _), doc_id in zip(items, doc_ids, strict=True):
            marker = dict(previous.get(doc_id) or {"doc_id": doc_id, "source": doc.source})
            marker.setdefault("sha256", "")
            markers.append({**marker, **lease, "dirty": True})
        self._put_records(markers)

        chunks = [
            c
            for (doc, _), d in zip(items, doc_ids, strict=True)
            for c in self._stored_chunks(doc, d)
        ]
        try:
            self._upsert(chunks, np.concatenate([np.asarray(v) for _, v in items]))
        except Exception:
            # Put the store back as it was: drop what was added of the new versions.
            for marker in markers:
                self._remove_chunks_except(str(marker["doc_id"]), keep_sha=str(marker["sha256"]))
            if previous:
                self._put_records(list(previous.values()))
            new_ids = [d for d in doc_ids if d not in previous]
            if new_ids:
                self._catalog.delete(ids=new_ids)
            raise

        ingested_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        records = [
            DocumentRecord(
                doc_id=doc_id,
                source=doc.source,
                kind=doc.kind,
                lang=doc.lang,
                pages=doc.page_count,
                chunks=len(doc.chunks),
                sha256=doc.sha256,
                ingested_at=ingested_at,
                title=doc.title,
                size_bytes=doc.size_bytes,
                skipped_pages=",".join(f"{s.number}:{s.reason}" for s in doc.skipped),
                ocr_pages=",".join(str(n) for n in sorted(doc.ocr_pages)),
                ocr_confidence=(
                    round(sum(doc.ocr_pages.values()) / len(doc.ocr_pages), 4)
                    if doc.ocr_pages
                    else 0.0
                ),
                **{
                    k: str(v)
                    for k, v in doc.doc_meta.items()
                    if v and k in META_FIELDS and k != "title"
                },
            )
            for (doc, _), doc_id in zip(items, doc_ids, strict=True)
        ]
        for record in records:  # what an administrator corrected outlives a new version
            kept = previous.get(record.doc_id, {})
            for key in str(kept.get("edited", "")).split(","):
                if key in META_FIELDS:
                    setattr(record, key, kept.get(key, getattr(record, key)))
            record.edited = str(kept.get("edited", ""))
        # The commit. A new document has no older chunks to remove, so its record is final at
        # once; a replaced one stays dirty until its old chunks are gone (one catalogue write
        # fewer per group of new files: ~1/4 of the write stage on 1,000 small files).
        replaced = [r for r in records if r.doc_id in previous]
        self._put_records(
            [
                {**asdict(r), **lease, "dirty": True}
                if r.doc_id in previous
                else {**asdict(r), "dirty": False}
                for r in records
            ]
        )
        for record in replaced:
            # A document without a record has no chunks: a write marks the record before it
            # adds any, and a deletion or rollback removes the chunks before the record.
            self._remove_chunks_except(record.doc_id, keep_sha=record.sha256)
        if replaced:
            self._put_records([{**asdict(r), "dirty": False} for r in replaced])
        return records

    def restore_document(
        self, record: dict[str, Any], chunks: Sequence[StoredChunk]
    ) -> DocumentRecord:
        """Write a document exactly as a backup holds it (ids, metadata, vectors), with the
        same all-or-nothing protocol as ``write_document``."""
        doc_id, sha = str(record["doc_id"]), str(record["sha256"])
        if any(c.metadata.get("doc_id") != doc_id or c.embedding is None for c in chunks):
            raise StoreError(f"backup of {record.get('source')!r}: chunks do not match it")
        with self._writing(doc_id) as lease:
            existing = self._catalog.get(ids=[doc_id], include=["metadatas"])
            previous = dict(existing["metadatas"][0]) if existing["metadatas"] else None
            marker = dict(previous) if previous else {"doc_id": doc_id, "source": record["source"]}
            marker.setdefault("sha256", "")
            self._put_record({**marker, **lease, "dirty": True})
            self._upsert(chunks, np.asarray([c.embedding for c in chunks], dtype=np.float32))
            lease_keys = ("dirty", *lease)
            committed = {k: v for k, v in record.items() if k not in lease_keys}
            self._put_record({**committed, **lease, "dirty": True})  # commit point
            self._remove_chunks_except(doc_id, keep_sha=sha)
            self._put_record({**committed, "dirty": False})
        return self._record_from_meta(committed)

    def _upsert(self, chunks: Sequence[StoredChunk], vectors: np.ndarray) -> None:
        for start in range(0, len(chunks), WRITE_BATCH):
            part = chunks[start : start + WRITE_BATCH]
            self.chunks.upsert(
                ids=[c.chunk_id for c in part],
                documents=[c.text for c in part],
                metadatas=[c.metadata for c in part],
                embeddings=vectors[start : start + len(part)],
            )

    def raw_catalogue(self) -> list[dict[str, Any]]:
        """The committed catalogue records as stored (for backups)."""
        return [m for m in self._raw_records() if m.get("sha256")]

    def _stored_chunks(self, doc: DocumentToWrite, doc_id: str) -> list[StoredChunk]:
        stored = []
        for chunk in doc.chunks:
            meta: dict[str, Any] = {
                "doc_id": doc_id,
                "source": doc.source,
                "kind": doc.kind,
                "lang": chunk.lang,
                "section": chunk.section,
                "chunk_index": chunk.index,
                "doc_sha256": doc.sha256,
                "title": doc.title,
            }
            if chunk.page is not None:  # Chroma metadata cannot hold None
                meta["page"] = chunk.page
            if chunk.page_breaks:
                meta["page_breaks"] = ",".join(f"{o}:{n}" for o, n in chunk.page_breaks)
            if doc.ocr_pages:
                spanned = {chunk.page, *(n for _, n in chunk.page_breaks)}
                ocr = sorted(n for n in spanned if n is not None and n in doc.ocr_pages)
                if ocr:
                    meta["ocr_pages"] = ",".join(map(str, ocr))
                    meta["ocr_confidence"] = round(
                        sum(doc.ocr_pages[n] for n in ocr) / len(ocr), 4
                    )  # the mean over the chunk's OCR'd pages
            stored.append(
                StoredChunk(chunk_id_for(doc_id, doc.sha256, chunk.index), chunk.text, meta)
            )
        return stored

    def _remove_chunks_except(self, doc_id: str, keep_sha: str) -> int:
        where: dict[str, Any] = {"doc_id": doc_id}
        if keep_sha:
            where = {"$and": [{"doc_id": doc_id}, {"doc_sha256": {"$ne": keep_sha}}]}
        got = self.chunks.get(where=where, include=[])
        ids = got["ids"]
        for start in range(0, len(ids), WRITE_BATCH * 4):
            self.chunks.delete(ids=ids[start : start + WRITE_BATCH * 4])
        return len(ids)

    def update_metadata(
        self, source_or_id: str, fields: Mapping[str, str | None]
    ) -> DocumentRecord:
        """Set metadata fields of a committed document (``META_FIELDS``; None or "" clears
        one). They are remembered as edited, so a later ingest of a new version keeps them."""
        record = self.get_document(source_or_id)
        if record is None:
            raise DocumentNotFoundError(
                f"no document {source_or_id!r} in knowledge base {self.name!r}"
            )
        unknown = set(fields) - set(META_FIELDS)
        if unknown:
            raise StoreError(f"not a metadata field: {', '.join(sorted(unknown))}")
        with self._writing(record.doc_id):
            current = self.get_document(record.doc_id)  # under the lock: the latest version
            if current is None:
                raise DocumentNotFoundError(f"{source_or_id!r} was deleted meanwhile")
            edited = [k for k in current.edited.split(",") if k]
            for key, value in fields.items():
                setattr(current, key, value or ("other" if key == "level" else ""))
                if key not in edited:
                    edited.append(key)
            current.edited = ",".join(edited)
            self._put_record({**asdict(current), "dirty": False})
        return current

    def link_versions(self) -> list[DocumentRecord]:
        """Documents with the same title are versions of one document: the latest (by its
        revision, adoption or effective date, then by when it was ingested) is ``current``,
        the others ``superseded`` by it; a document with no other version is ``current``. A
        status an administrator set is left alone. Returns the records that changed."""
        groups: dict[str, list[DocumentRecord]] = {}
        for record in self.list_documents():
            key = version_key(record.title) or record.source
            groups.setdefault(key, []).append(record)
        changed: list[DocumentRecord] = []
        for versions in groups.values():
            latest = max(
                versions,
                key=lambda r: (r.revised or r.adopted or r.effective or "", r.ingested_at),
            )
            for record in versions:
                if "status" in record.edited.split(","):
                    continue
                status, by = ("current", "") if record is latest else ("superseded", latest.doc_id)
                if (record.status, record.superseded_by) != (status, by):
                    record.status, record.superseded_by = status, by
                    changed.append(record)
        # one catalogue read and one write for all of them (a write per record cost ~40 ms:
        # 13 s after ingesting 300 small files, bench/ingest_bench.py)
        for start in range(0, len(changed), 256):
            part = changed[start : start + 256]
            with self._writing(*(r.doc_id for r in part)):
                now = self.get_documents(r.doc_id for r in part)
                still = [  # a record re-written meanwhile keeps what its writer gave it
                    r for r in part if r.doc_id in now and now[r.doc_id].sha256 == r.sha256
                ]
                if still:
                    self._put_records([{**asdict(r), "dirty": False} for r in still])
        return changed

    def delete_document(self, source_or_id: str) -> DocumentRecord:
        record = self.get_document(source_or_id)
        if record is None:
            raise DocumentNotFoundError(
                f"no document {source_or_id!r} in knowledge base {self.name!r}"
            )
        # Hide it first (empty sha = not committed), then remove chunks, then the record.
        with self._writing(record.doc_id) as lease:
            self._put_record(
                {
                    "doc_id": record.doc_id,
                    "source": record.source,
                    "sha256": "",
                    **lease,
                    "dirty": True,
                }
            )
            self._remove_chunks_except(record.doc_id, keep_sha="")
            self._catalog.delete(ids=[record.doc_id])
        return record

    def repair(self) -> RepairReport:
        """Finish or roll back writes that a crash interrupted (records marked dirty)."""
        report = RepairReport()
        for meta in self._raw_records(where={"dirty": True}):
            if not self._abandoned(meta):
                report.in_progress += 1
                continue
            doc_id, sha = str(meta["doc_id"]), str(meta.get("sha256") or "")
            report.chunks_removed += self._remove_chunks_except(doc_id, keep_sha=sha)
            report.documents_repaired += 1
            if sha:
                self._put_record({**meta, "dirty": False})
            else:
                self._catalog.delete(ids=[doc_id])
        if report.documents_repaired:
            log.warning(
                "repaired %d interrupted document write(s) in %r, removed %d chunk(s)",
                report.documents_repaired,
                self.name,
                report.chunks_removed,
            )
        return report

    def _abandoned(self, meta: dict[str, Any]) -> bool:
        """Is this dirty record's write over (crashed or failed), not merely running?"""
        writer = str(meta.get("writer") or "")
        if not writer or time.time() - float(meta.get("dirty_at") or 0.0) > STALE_WRITE_S:
            return True
        if writer == _writer_id():
            with _writes_lock:
                return (self.name, str(meta["doc_id"])) not in _active_writes
        host, _, pid = writer.rpartition(":")
        if host == socket.gethostname() and pid.isdigit():
            return not pid_alive(int(pid))
        return False  # another host's write, not yet stale

    @contextmanager
    def _writing(self, *doc_ids: str) -> Iterator[dict[str, Any]]:
        """Serialise writes of each document in this process and mark them as running; yields
        the lease fields every dirty record of the write carries."""
        keys = [(self.name, doc_id) for doc_id in doc_ids]
        # stripes are taken in one order, so two writers of overlapping sets cannot deadlock
        stripes = sorted({hash(key) % len(_document_locks) for key in keys})
        with ExitStack() as stack:
            for stripe in stripes:
                stack.enter_context(_document_locks[stripe])
            with _writes_lock:
                _active_writes.update(keys)
            try:
                yield {"writer": _writer_id(), "dirty_at": time.time()}
            finally:
                with _writes_lock:
                    _active_writes.difference_update(keys)

    def drop(self) -> None:
        """Delete the whole knowledge base."""
        self._client.delete_collection(self.chunks.name)
        self._client.delete_collection(self._catalog.name)

    def iter_chunks(
        self, where: dict[str, Any] | None = None, *, embeddings: bool = False
    ) -> Iterable[StoredChunk]:
        """Every committed chunk (optionally filtered), for the search indexes and inspection;
        with ``embeddings``, each chunk carries its stored vector."""
        versions = self.committed_versions()
        include: list[Any] = ["documents", "metadatas"] + (["embeddings"] if embeddings else [])
        got = self.chunks.get(where=where, include=include)
        stored = got.get("embeddings")
        vectors: list[Any] = [None] * len(got["ids"]) if stored is None else list(stored)
        for cid, text, meta, vector in zip(
            got["ids"], got["documents"] or [], got["metadatas"] or [], vectors, strict=True
        ):
            if versions.get(str(meta.get("doc_id"))) == meta.get("doc_sha256"):
                yield StoredChunk(cid, text or "", dict(meta), vector)
