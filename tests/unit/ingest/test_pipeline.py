"""The text the embedder reads for a chunk: a heading line that says where the chunk is,
without repeating what the chunk's text already says."""

from __future__ import annotations

from ingest.pipeline import HEADING_MAX_CHARS, embed_text, heading_line, stem_title


def test_heading_names_document_and_section() -> None:
    assert heading_line("校企合作办法", "第二章 保障 > 第五条", "企业可以…") == (
        "校企合作办法 > 第二章 保障 > 第五条"
    )


def test_the_title_is_not_repeated_by_the_section_path() -> None:
    """A Markdown law's path starts with its own H1, which is the document's title."""
    line = heading_line("中华人民共和国教育法", "中华人民共和国教育法 > 第一章 总则", "x")
    assert line == "中华人民共和国教育法 > 第一章 总则"


def test_the_label_the_chunk_opens_with_is_not_repeated() -> None:
    text = "第二条 在中华人民共和国境内的各级各类教育，适用本法。"
    line = heading_line("中华人民共和国教育法", "中华人民共和国教育法 > 第一章 总则 > 第二条", text)
    assert line == "中华人民共和国教育法 > 第一章 总则"
    assert embed_text("中华人民共和国教育法", "第二条", text) == f"中华人民共和国教育法\n{text}"
    # a Markdown heading line counts as the opening too
    assert heading_line("Guide", "Guide > 2. Method", "## 2. Method\nWe ask.") == "Guide"


def test_a_label_the_chunk_does_not_open_with_stays() -> None:
    text = "企业提供设备和师傅。"  # the second part of a long article
    assert heading_line("办法", "第一章 > 第五条", text) == "办法 > 第一章 > 第五条"


def test_nothing_to_say_embeds_the_text_alone() -> None:
    assert (
        embed_text("", "第一条", "第一条 本办法自公布之日起施行。")
        == "第一条 本办法自公布之日起施行。"
    )


def test_long_heading_keeps_the_specific_end() -> None:
    line = heading_line("很长的标题" * 10, "第一编 > 第二章 > 第三节 > 第十条", "text")
    assert len(line) <= HEADING_MAX_CHARS and line.endswith("第十条")


def test_a_file_name_s_words_are_written_with_spaces() -> None:
    """ "zh_policy_compilation" costs the encoder 9 tokens in every chunk, "zh policy
    compilation" 6; the date and serial number of a folder's files still go."""
    assert stem_title("zh_policy_compilation") == "zh policy compilation"
    assert stem_title("failure-after-repair") == "failure after repair"
    assert stem_title("federal-register-2020-17221") == "federal register 2020 17221"
    assert stem_title("上海市促进科技成果转化条例(2017-04-20)-001") == "上海市促进科技成果转化条例"
    assert stem_title("校企合作__办法") == "校企合作 办法"
    assert stem_title("___") == "___"  # nothing else to call it
