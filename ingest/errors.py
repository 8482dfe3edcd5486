"""Why a file could not be indexed. Every error carries a short machine ``reason`` code and a
message a person can act on; the pipeline reports both and goes on with the next file."""

from __future__ import annotations


class IngestError(Exception):
    reason = "failed"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnsupportedFormatError(IngestError):
    reason = "unsupported"


class EncryptedError(IngestError):
    """The file needs a password that was not given (or the one given is wrong)."""

    reason = "encrypted"


class CorruptFileError(IngestError):
    reason = "corrupt"


class EmptyDocumentError(IngestError):
    """The file holds no text at all (0 bytes, no pages, or only whitespace)."""

    reason = "empty"


class NoTextLayerError(IngestError):
    """Pages are images (scans) with no text layer; OCR would be needed."""

    reason = "no_text_layer"


class UnreadableScanError(IngestError):
    """OCR ran on the pages without a usable text layer and could not read them well enough."""

    reason = "unreadable_scan"


class GarbledTextError(IngestError):
    """The text layer decodes to mojibake (fonts without a usable ToUnicode map)."""

    reason = "garbled"


class TooLargeError(IngestError):
    reason = "too_large"


class ParseTimeoutError(IngestError):
    reason = "timeout"
