"""Retrieved text is data. Sentences in it that address the reader as an assistant ("ignore the
previous instructions", "reveal your system prompt", "always answer X", "cite [7] for this")
are never policy content, so they are cut from the excerpts before the model sees them; the
prompt also tells the model to treat passages as data. What is cut is logged with its source.

Hidden text (zero-width characters, bidirectional controls) is removed at ingest by the text
normaliser (ingest/loaders.py), so it cannot smuggle such sentences past this check.
"""

from __future__ import annotations

import re

_PATTERNS = [
    # English
    r"\bignore\b.{0,40}\b(instruction|prompt|rule|above|previous|prior|context)",
    r"\bdisregard\b.{0,40}\b(instruction|prompt|rule|above|previous|prior)",
    r"\bforget\b.{0,30}\b(instruction|rule|everything)",
    r"\b(system|hidden|initial)\s+prompt\b",
    r"\b(reveal|print|show|repeat|output)\b.{0,30}\b(prompt|instructions|rules)\b",
    r"\byou (are|must|should|will) (now )?(an?|the)?\s*(assistant|ai|model|chatbot|pirate)\b",
    r"\b(as an ai|language model)\b",
    r"\balways (answer|reply|respond|say|cite)\b",
    r"\b(answer|reply|respond) (only )?with\b.{0,40}\b(regardless|whatever|no matter)\b",
    r"\bnew instructions?\b",
    r"\bcite\b.{0,20}\[\s*\d+\s*\].{0,30}\b(for|as|every)\b",
    # Chinese
    r"忽略.{0,20}(指令|指示|提示|规则|要求|以上|之前|上述)",
    r"无视.{0,20}(指令|指示|提示|规则|要求|以上|之前|上述)",
    r"(系统|隐藏|初始)提示(词|语)?",
    r"(泄露|透露|输出|重复|显示|打印).{0,12}(提示词|提示语|指令|规则|系统设定)",
    r"你(现在)?(是|扮演|必须|应当|要)(一个|一名)?.{0,8}(助手|模型|机器人|海盗|AI)",
    r"(无论|不管).{0,20}(都|一律|总是)(回答|答复|输出|说)",
    r"(总是|始终|一律)(回答|答复|输出|引用)",
    r"(请|务必)?(只|仅)(回答|输出)[“\"']",
    r"新的?指令",
    r"(作为|身为)(一个)?(AI|人工智能|语言模型)",
]
_INSTRUCTION = re.compile("|".join(f"(?:{p})" for p in _PATTERNS), re.I | re.S)


def is_instruction(sentence: str) -> bool:
    """Whether ``sentence`` speaks to an assistant rather than states a fact."""
    return _INSTRUCTION.search(sentence) is not None
