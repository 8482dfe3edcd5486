"""Small document generators for tests: real PDFs (English and Chinese, encrypted, image-only,
truncated) and DOCX files, written to a temp folder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

CJK_FONT = "STSong-Light"  # an Adobe CID font: no font file is needed and pypdf maps it back


def _register_cjk_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))


def _wrap(line: str, width: int) -> list[str]:
    return [line[i : i + width] for i in range(0, len(line), width)] or [""]


def write_pdf(path: Path, pages: Sequence[str], *, chinese: bool = False) -> Path:
    """One string per page; lines wrap at a fixed width so long paragraphs fit the page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    if chinese:
        _register_cjk_font()
    font, width = (CJK_FONT, 38) if chinese else ("Helvetica", 90)
    pdf = canvas.Canvas(str(path), pagesize=A4)
    for text in pages:
        pdf.setFont(font, 11)
        y = 800.0
        for paragraph in text.split("\n"):
            for line in _wrap(paragraph, width):
                if y < 40:
                    break
                pdf.drawString(40, y, line)
                y -= 15
        pdf.showPage()
    pdf.save()
    return path


def write_image_only_pdf(path: Path, pages: int = 2) -> Path:
    """Pages that carry only a drawn image (like a scan): no text layer at all."""
    from PIL import Image
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    image_path = path.with_suffix(".png")
    Image.new("RGB", (200, 100), (230, 230, 230)).save(image_path)
    pdf = canvas.Canvas(str(path), pagesize=A4)
    for _ in range(pages):
        pdf.drawImage(str(image_path), 40, 400, width=400, height=200)
        pdf.showPage()
    pdf.save()
    image_path.unlink()
    return path


def encrypt_pdf(source: Path, target: Path, *, user_password: str, owner_password: str) -> Path:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm="AES-256")
    with target.open("wb") as fh:
        writer.write(fh)
    return target


def truncate_file(source: Path, target: Path, keep: float = 0.4) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * keep)])
    return target


def write_docx(path: Path, blocks: Sequence[tuple[str, str]]) -> Path:
    """``blocks`` are (style, text): style "h1"/"h2" for headings, "p" for paragraphs."""
    import docx

    document = docx.Document()
    for style, text in blocks:
        if style.startswith("h"):
            document.add_heading(text, level=int(style[1:]))
        else:
            document.add_paragraph(text)
    document.save(str(path))
    return path
