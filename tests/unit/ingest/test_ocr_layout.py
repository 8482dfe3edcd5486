"""Reading order from OCR line boxes (ingest/ocr.py): columns, rows, paragraphs, labels."""

from __future__ import annotations

from ingest.ocr import OcrLine, assemble_text, mean_confidence

H = 40.0  # line height in pixels
W = 1600.0  # page width


def line(text: str, x0: float, row: int, x1: float | None = None, conf: float = 0.99) -> OcrLine:
    y0 = 200 + row * 1.5 * H
    return OcrLine(text, x0, y0, x1 if x1 is not None else x0 + 40 * len(text), y0 + H, conf)


def test_one_column_paragraphs_by_indent_label_and_short_line() -> None:
    lines = [
        line("第一章 总则", 700, 0),
        line("第一条为了深化产教融合，促进校企合作，根据有关法律", 200, 1, 1400),
        line("法规，制定本办法。", 200, 2),
        line("学校和企业应当共同培养技术技能人才，共建实训基地", 280, 3, 1400),
        line("和专业。", 200, 4),
        line("第二条 本办法适用于本省的职业院校。", 200, 5),
    ]
    text = assemble_text(lines, page_width=W)
    assert text.split("\n\n") == [
        "第一章 总则",
        "第一条 为了深化产教融合，促进校企合作，根据有关法律法规，制定本办法。",
        "学校和企业应当共同培养技术技能人才，共建实训基地和专业。",
        "第二条 本办法适用于本省的职业院校。",
    ]


def test_a_blank_line_gap_starts_a_paragraph() -> None:
    first = line("校企合作委员会每学期召开一次全体会议，研究合作", 200, 0, 1400)
    second = line("事项。", 200, 1)
    far = OcrLine("会议纪要报主管部门备案。", 200, second.y1 + 3 * H, 680, second.y1 + 4 * H, 0.99)
    assert assemble_text([first, second, far], page_width=W).split("\n\n") == [
        "校企合作委员会每学期召开一次全体会议，研究合作事项。",
        "会议纪要报主管部门备案。",
    ]


def test_split_boxes_of_one_row_are_joined_left_to_right() -> None:
    right = line("共建实训基地。", 710, 0)
    left = line("学校与企业", 200, 0, 700)
    assert assemble_text([right, left], page_width=W) == "学校与企业共建实训基地。"
    # a wide gap is a space the page meant (after an article label)
    label, body = line("第三条", 200, 0, 320), line("学校应当建立合作机制。", 420, 0)
    assert assemble_text([body, label], page_width=W) == "第三条 学校应当建立合作机制。"


def test_english_lines_join_with_spaces_and_broken_words_are_mended() -> None:
    lines = [
        line("Colleges and enterprises share the cost of train-", 200, 0, 1400),
        line("ing bases and the teachers who run them.", 200, 1, 1100),
    ]
    assert assemble_text(lines, page_width=W) == (
        "Colleges and enterprises share the cost of training bases and the teachers who run them."
    )


def test_two_columns_are_read_left_then_right_after_a_title_across_both() -> None:
    title = OcrLine("关于深化产教融合的若干意见", 400, 100, 1200, 140, 0.99)
    left = [line(f"左栏第{i}行内容，这一行一直写到栏边", 100, i, 760) for i in range(1, 5)]
    left[-1] = line("左栏最后一行。", 100, 4, 400)
    right = [line(f"右栏第{i}行内容，这一行一直写到栏边", 860, i, 1520) for i in range(1, 5)]
    text = assemble_text([*right, title, *left], page_width=W)
    paragraphs = text.split("\n\n")
    assert paragraphs[0] == "关于深化产教融合的若干意见"
    assert paragraphs[1].startswith("左栏第1行") and paragraphs[1].endswith("左栏最后一行。")
    assert paragraphs[2].startswith("右栏第1行")


def test_a_paragraph_runs_on_from_the_foot_of_one_column_to_the_next() -> None:
    left = [line(f"左栏第{i}行的文字一直写到栏边", 100, i, 760) for i in range(4)]
    right = [line(f"右栏第{i}行的文字一直写到栏边", 860, i, 1520) for i in range(3)]
    right.append(line("段落到此结束。", 860, 3, 1200))
    text = assemble_text([*left, *right], page_width=W)
    assert "\n\n" not in text  # one paragraph across the column break
    assert text.startswith("左栏第0行") and text.endswith("段落到此结束。")


def test_nothing_recognised_is_empty_text_and_zero_confidence() -> None:
    assert assemble_text([], page_width=W) == ""
    assert mean_confidence([]) == 0.0
    weighted = [line("长长长长长长长长", 0, 0, conf=1.0), line("短", 0, 1, conf=0.0)]
    assert abs(mean_confidence(weighted) - 8 / 9) < 1e-9
