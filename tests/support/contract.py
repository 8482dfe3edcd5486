"""DESIGN's contract, once, for every test that checks a record's shape."""

KB_DOC_FIELDS = frozenset(
    {"doc_id", "source", "kind", "lang", "pages", "chunks", "sha256", "ingested_at"}
)
ANSWER_RECORD_FIELDS = frozenset(
    {"id", "question", "answer", "refused", "citations", "contexts", "latency_s", "llm"}
)
# DESIGN's fields plus "ocr" (the page was read from a scan: README, "Output records")
CITATION_FIELDS = frozenset(
    {"n", "source", "page", "chunk_id", "quote", "ocr", "label", "article", "status"}
)
CONTEXT_FIELDS = frozenset({"rank", "source", "page", "chunk_id", "score", "text", "ocr"})
# a review's evidence: DESIGN's fields plus "ocr"
EVIDENCE_FIELDS = frozenset({"source", "page", "quote", "ocr"})
