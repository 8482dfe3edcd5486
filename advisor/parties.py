"""Advice by party: what government, colleges, enterprises and research institutes each do.

An administrator who asks how to design a mechanism ("我校想与企业共建产业学院，怎样设计利益
分配机制？") needs each party's part, and the knowledge base usually states it clause by clause
("院校提供场地、教师…；企业投入设备、真实项目…；地方政府在用地、财政奖补…给予支持").
A small model condenses that into one sentence. This module takes the clauses whose subject is
a party out of the decisive sentences, verbatim, so that the answer can list them under each
party with their citations. It is used only where the passages support at least two parties.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from advisor.citations import strip_markers
from advisor.evidence import Decisive

#: the four parties of the seed paper, in the order an answer lists them
PARTY_LABELS = {
    "zh": ("政府", "院校", "企业", "科研院所"),
    "en": ("Government", "Colleges", "Enterprises", "Research institutes"),
}
_SUBJECTS = {
    "zh": (
        r"(?:地方|各级|县级以上(?:地方)?|省级|市级)?(?:人民)?政府|财政部门|主管部门|教育行政部门",
        r"(?:高职|职业)?院校|(?:职业)?学校|高校|学院",
        r"(?:合作|龙头|参与)?企业|用人单位",
        r"科研院所|科研机构|研究机构|研究院",
    ),
    "en": (
        r"(?:local |the )?governments?|(?:the )?(?:education )?authorities|(?:the )?state",
        r"(?:the )?(?:vocational )?colleges?|(?:the )?schools?|(?:the )?universit(?:y|ies)",
        r"(?:the )?(?:partner )?(?:enterprises?|firms?|compan(?:y|ies)|employers?)",
        r"(?:the )?research (?:institutes?|institutions?|centres?)",
    ),
}
#: what may stand before the subject of a clause
_LEAD = {
    "zh": r"^(?:而|并|同时|另外|此外|其中|对|由)?",
    "en": r"^(?:and |while |but |also |in turn, |meanwhile, )?",
}
_CLAUSE_END = re.compile(r"(?<=[；;。!?！？])\s*|(?<=\.)\s+")
ADVISORY = {
    "zh": re.compile(r"怎样|怎么|如何|建议|对策|措施|机制|做法|分工|哪些方面|该从|应当从|应该"),
    "en": re.compile(
        r"\bhow (?:should|can|could|do|to)\b|\bwhat should\b|\badvi[cs]e\b|\bmeasures?\b|"
        r"\bmechanism|\bsteps?\b|\bwho does what\b",
        re.I,
    ),
}
MAX_PER_PARTY = 2
MAX_CHARS = 520


@dataclass(frozen=True, slots=True)
class PartyClause:
    party: str  # a label of PARTY_LABELS
    text: str  # verbatim from the passage
    n: int  # the passage's number in the answer


def is_advisory(question: str, lang: str) -> bool:
    """How / what should / which measures: a question that asks for a design or advice."""
    return bool(ADVISORY["zh" if lang == "zh" else "en"].search(question))


def party_of(clause: str, lang: str) -> str | None:
    """The party that is the subject of ``clause``, or None."""
    key = "zh" if lang == "zh" else "en"
    text = clause.strip().lstrip("-•*（(0123456789一二三四五六七八九十、.）) ")
    for label, subject in zip(PARTY_LABELS[key], _SUBJECTS[key], strict=True):
        if re.match(_LEAD[key] + f"(?:{subject})", text, re.I if key == "en" else 0):
            return label
    return None


def party_clauses(ranked: Sequence[Decisive], lang: str, sentences: int = 8) -> list[PartyClause]:
    """Clauses of the best ``sentences`` decisive sentences whose subject is a party, at most
    ``MAX_PER_PARTY`` per party and ``MAX_CHARS`` in all, best sentences first; empty unless
    two parties or more are found."""
    key = "zh" if lang == "zh" else "en"
    found: list[PartyClause] = []
    used = 0
    seen: set[str] = set()
    for d in list(ranked)[:sentences]:
        if (d.passage.lang or key) != key:
            continue  # verbatim clauses only in the answer's own language
        for clause in _CLAUSE_END.split(d.text):
            clause = strip_markers(clause).strip().rstrip("；;，,")
            if len(clause) < (8 if key == "zh" else 25) or clause in seen:
                continue
            party = party_of(clause, key)
            if party is None or sum(c.party == party for c in found) >= MAX_PER_PARTY:
                continue
            if used + len(clause) > MAX_CHARS:
                continue
            found.append(PartyClause(party, clause, d.n))
            seen.add(clause)
            used += len(clause)
    if len({c.party for c in found}) < 2:
        return []
    order = PARTY_LABELS[key]
    return sorted(found, key=lambda c: order.index(c.party))


_HEADING = {"zh": "各方做法（原文）", "en": "What each party does (quoted from the sources)"}


def format_parties(clauses: Sequence[PartyClause], lang: str) -> str:
    """A cited line per clause under its party, for the answer's basis."""
    key = "zh" if lang == "zh" else "en"
    colon = "：" if key == "zh" else ": "
    end = "。" if key == "zh" else "."
    lines = [f"**{_HEADING[key]}**"]
    for c in clauses:
        text = c.text if c.text.endswith(("。", ".", "！", "？", "!", "?")) else c.text + end
        text = text[:1].upper() + text[1:]  # a clause taken from mid-sentence starts a line
        lines.append(f"- {c.party}{colon}{text}[{c.n}]")
    return "\n".join(lines)
