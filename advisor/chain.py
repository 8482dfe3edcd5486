"""The cited answer chain (LCEL), built by factory functions that take their dependencies.

    question (+ history) -> standalone question (rewritten only when there is history)
                         -> hybrid retrieval -> evidence gate -> prompt -> chat model
                         -> citation check -> Answer

The evidence gate refuses before any model call when retrieval found nothing adequate; the
model may also refuse with the prompt's fixed sentence. Either way ``refused`` is true and the
answer says the knowledge base does not cover the question.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import Runnable, RunnableBranch, RunnableLambda

from advisor.citations import check_citations, cited_numbers, split_keep, split_sentences
from advisor.drift import one_language
from advisor.errors import AdvisorError, LLMError
from advisor.evidence import (
    MIN_SHARE,
    Decisive,
    Support,
    asks_count,
    assess_support,
    choose,
    complete_lists,
    decisive_sentences,
)
from advisor.extractive import extractive_label
from advisor.glossary import load_glossary
from advisor.grounding import check_evidence
from advisor.injection import is_instruction
from advisor.labels import label_citations, superseded_note
from advisor.numbers import SMALL, english_figures, known_figures, unsupported_figures
from advisor.parties import PartyClause, format_parties, is_advisory, party_clauses
from advisor.schemas import Answer
from advisor.terms import prompt_terms, term_lines
from advisor.terms import warm_up as warm_up_terms
from ingest.lang import detect_lang
from prompts import load_prompt, render_prompt
from textrules import HAN_RUN
from vectorstore.gate import compute_gate
from vectorstore.keyword import tokenize
from vectorstore.retrieval import HybridRetriever, Passage, RetrievalFilter

log = logging.getLogger(__name__)

HistoryTurn = dict[str, str]  # {"role": "user"|"assistant", "content": "..."}

_REFUSAL_HINTS = (
    "没有足够的依据",
    "无法回答",
    "does not cover",
    "not covered by the knowledge base",
    "no adequate evidence",
)


@dataclass(slots=True)
class ChainConfig:
    top_k: int = 6
    #: below this best cosine similarity (and without a strong keyword match) the question is
    #: refused without calling the model; calibrated on the eval set (docs/BENCHMARKS.md)
    min_similarity: float = 0.80
    #: a passage whose BM25 score reaches this counts as adequate evidence on its own
    min_keyword_score: float = 12.0
    #: excerpt budgets for the prompt by passage rank, in characters: the best passages get
    #: room for their facts, the last ones a sentence or two (prompt speed on 2 cores: ~75
    #: prompt tokens/s with the bundled model, so ~500 prompt tokens keep the first token
    #: near 6 s)
    excerpt_chars_zh: tuple[int, ...] = (200, 150, 110, 90, 70, 60)
    excerpt_chars_en: tuple[int, ...] = (520, 400, 300, 240, 180, 160)
    #: turns of history the follow-up rewrite sees (the last question and answer are what a
    #: follow-up refers to; each extra turn costs ~2 s of prompt time on the local model)
    history_turns: int = 2
    #: seconds an answer may take to write before it is stopped (LLMError)
    question_timeout_s: float = 300.0
    #: refuse when no sentence states the answer (advisor/evidence.py)
    support_check: bool = True
    #: build the prompt from the decisive sentences instead of per-passage excerpts
    decisive_prompt: bool = True
    prompt_sentences: int = 8
    prompt_chars: int = 900
    #: when given, the budget above is chosen at each question from the model's measured
    #: prompt speed (its ``prompt_tokens_per_s``, None before the warm-up measured it):
    #: ``Settings.prompt_budget`` for the bundled model, whose first token waits for the prompt
    prompt_budget_for_speed: Callable[[float | None], tuple[int, int]] | None = None
    #: the prompt keeps only sentences scoring at least this share of the best one (0: all
    #: within the budgets above)
    prompt_relative: float = 0.0
    #: show the decisive sentences verbatim under a model's answer
    basis: bool = True
    #: mend words of the other language in the model's text (advisor/drift.py)
    one_language: bool = True
    #: an advisory question's basis lists each party's clauses (advisor/parties.py)
    by_party: bool = True
    #: an English answer's prompt carries the glossed terms of its Chinese sentences
    gloss_prompt: bool = False
    #: a follow-up is rewritten by the model before retrieval; off: it is searched with the
    #: previous question prefixed, and the model reads that question beside it
    rewrite_follow_ups: bool = False
    #: when the model says "not covered" but the support check found a sentence that states
    #: the answer, the model is asked once more with the sentences the extractive backend
    #: answers with, told that they were chosen as answering; its "not covered" stands only
    #: if it says so again
    second_reading: bool = True


def question_lang(question: str) -> str:
    return detect_lang(question)


# ------------------------------------------------------------------------ factories


def _format_history(history: Sequence[HistoryTurn], turns: int) -> str:
    lines = []
    for turn in list(history)[-2 * turns :]:
        who = "用户/User" if turn.get("role") == "user" else "顾问/Advisor"
        limit = 200 if turn.get("role") == "user" else 160
        lines.append(f"{who}: {turn.get('content', '').strip()[:limit]}")
    return "\n".join(lines)


def _clean_rewrite(text: str, fallback: str) -> str:
    line = next((ln.strip() for ln in text.strip().splitlines() if ln.strip()), "")
    line = re.sub(r"^(改写后的问题|Rewritten question)\s*[:：]\s*", "", line).strip("\"'“”「」 ")
    return line if 4 <= len(line) <= 300 else fallback


def earlier_question(history: Sequence[HistoryTurn] | None) -> str:
    """The last question the user asked before this one ("" without history)."""
    previous = [t.get("content", "").strip() for t in history or [] if t.get("role") == "user"]
    return previous[-1] if previous else ""


def _concatenate_history(inputs: dict[str, Any]) -> str:
    """Without a model rewrite, a follow-up is made standalone by prefixing the last user
    turn (what it refers to: "这两类学校", "the same law")."""
    previous = earlier_question(inputs.get("history"))
    return f"{previous} {inputs['question']}" if previous else inputs["question"]


def build_condense_chain(
    llm: BaseChatModel | None, config: ChainConfig
) -> Runnable[dict[str, Any], str]:
    """{"question", "history"} -> a standalone question."""
    if llm is None:
        return RunnableLambda(_concatenate_history).with_config(run_name="condense_question")

    def to_messages(inputs: dict[str, Any]) -> list[BaseMessage]:
        lang = question_lang(inputs["question"])
        prompt = render_prompt(
            "condense",
            lang,
            history=_format_history(inputs["history"], config.history_turns),
            question=inputs["question"],
        )
        return [HumanMessage(content=prompt)]

    rewrite = RunnableLambda(to_messages) | llm.bind(stop=["\n"]) | StrOutputParser()

    def run(inputs: dict[str, Any]) -> str:
        return _clean_rewrite(rewrite.invoke(inputs), _concatenate_history(inputs))

    return RunnableLambda(run).with_config(run_name="condense_question")


def build_standalone_question_chain(
    llm: BaseChatModel | None, config: ChainConfig
) -> Runnable[dict[str, Any], str]:
    """Rewrites the question only when there is history; otherwise passes it through."""
    return RunnableBranch(
        (lambda x: bool(x.get("history")), build_condense_chain(llm, config)),
        RunnableLambda(lambda x: x["question"]),
    ).with_config(run_name="standalone_question")


def build_retrieval_chain(
    retriever: HybridRetriever, config: ChainConfig
) -> Runnable[dict[str, Any], list[Passage]]:
    """{"query", "filter"?} -> passages."""

    glossary = load_glossary()

    def run(inputs: dict[str, Any]) -> list[Passage]:
        query = inputs["query"]
        lang = question_lang(query)
        return retriever.retrieve(
            query,
            k=config.top_k,
            flt=inputs.get("filter"),
            query_lang=lang,
            translated_terms=glossary.translate_terms(query, lang),
        )

    return RunnableLambda(run).with_config(run_name="retrieve")


def build_generation_chain(llm: BaseChatModel) -> Runnable[list[BaseMessage], str]:
    return (llm | StrOutputParser()).with_config(run_name="generate")


# ------------------------------------------------------------------------ prompt pieces


_HEADING_LINE = re.compile(r"^\s*#{1,6}\s.*$", re.M)
_LIST_ONLY = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)、]|[（(][一二三四五六七八九十\d]{1,3}[)）])\s*$")


def _prose(text: str) -> str:
    """Passage text as running prose for the prompt: Markdown heading lines dropped (the
    section path already says where the passage is) and hard line wraps undone."""
    text = _HEADING_LINE.sub("", text)
    paragraphs = []
    for block in re.split(r"\n\s*\n", text):
        lines = [ln.strip() for ln in block.splitlines() if ln.strip()]
        joined = ""
        for line in lines:
            if joined and re.search(r"[A-Za-z0-9,;:]$", joined) and re.match(r"[A-Za-z0-9(]", line):
                joined += " " + line  # an English line wrap
            elif joined and _LIST_ONLY.match(joined.split("\n")[-1] or ""):
                joined += line
            else:
                joined += ("\n" if joined else "") + line
        if joined:
            paragraphs.append(joined)
    return "\n".join(paragraphs)


def excerpt(passage: Passage, question: str, budget: int, extra_terms: Sequence[str] = ()) -> str:
    """The sentences of a passage most related to the question, in their original order,
    within ``budget`` characters; the leading sentences when nothing overlaps. ``extra_terms``
    are the question's key terms in the other language (from the glossary), so that an
    English question picks the right sentences of a Chinese passage and the reverse."""
    text = _prose(passage.text)
    if is_instruction(text):  # data that speaks to the assistant is not passed on
        kept = [s for s in split_sentences(text) if not is_instruction(s)]
        log.warning("instruction-like text cut from %s (passage %d)", passage.source, passage.rank)
        text = (" " if passage.lang == "en" else "").join(kept)
    if len(text) <= budget:
        return text
    sentences = [s for s in split_sentences(text) if not _LIST_ONLY.match(s)]
    if not sentences:
        return text[:budget]
    terms = set(tokenize(question)) | set(tokenize(" ".join(extra_terms)))
    phrases = [t for t in extra_terms if len(t) >= 2]

    def relevance(i: int) -> int:
        sentence = sentences[i]
        shared = len(set(tokenize(sentence)) & terms)
        return shared + sum(2 for t in phrases if t in sentence)  # a whole term counts more

    scored = sorted(range(len(sentences)), key=lambda i: (-relevance(i), i))
    separator = " … "
    chosen: list[int] = []
    used = 0
    for i in scored:
        cost = len(sentences[i]) + (len(separator) if chosen else 0)
        if used + cost > budget:
            continue
        chosen.append(i)
        used += cost
    if not chosen:  # even the best sentence is longer than the budget: cut it
        return sentences[scored[0]][:budget]
    return separator.join(sentences[i] for i in sorted(chosen))


def format_sources(
    passages: Sequence[Passage],
    question: str,
    config: ChainConfig,
    lang: str,
    extra_terms: Sequence[str] = (),
) -> str:
    blocks = []
    for p in passages:
        budgets = config.excerpt_chars_zh if p.lang == "zh" else config.excerpt_chars_en
        budget = budgets[min(max(p.rank, 1), len(budgets)) - 1]
        blocks.append(passage_block(p, excerpt(p, question, budget, extra_terms)))
    return "\n".join(blocks)


_FILE_SUFFIX = re.compile(r"\.(?:md|txt|pdf|docx?|html?)$", re.I)
_FULL_DATE = re.compile(r"\((\d{4})-\d{2}-\d{2}\)")


def source_label(p: Passage, body: str = "") -> str:
    """A passage's name for the prompt, as short as tells it apart: the file name without
    its suffix, a version date as its year ("职业教育法(1996)": the year tells the 1996 and
    the 2022 law apart), the page, and the most specific part of its section path unless the
    body opens with it ("第三十六条 …"). The prompt's length is what the first token waits
    for on a CPU: the full name cost ~12 tokens more per passage (bench/prompt_budget.py)."""
    name = _FULL_DATE.sub(r"(\1)", _FILE_SUFFIX.sub("", p.source)) or p.source
    where = name + (f" p.{p.page}" if p.page else "")
    section = p.section.rsplit(" > ", 1)[-1].strip() if p.section else ""
    if section and not body.lstrip().startswith(section):
        return f"{where} | {section}"
    return where


def passage_block(p: Passage, body: str) -> str:
    """One passage of the prompt, delimited and escaped so that its text cannot close the
    block or fake a header; labelled with ``source_label``."""
    label = source_label(p, body).replace('"', "'").replace("<", "‹").replace(">", "›")
    body = body.replace("<", "‹").replace(">", "›")
    return f'<passage n="{p.rank}" source="{label}">\n{body}\n</passage>'


def build_answer_messages(
    question: str,
    passages: Sequence[Passage],
    lang: str,
    config: ChainConfig,
    extra_terms: Sequence[str] = (),
    *,
    ranked: Sequence[Decisive] | None = None,
    earlier: str = "",
    second_reading: bool = False,
) -> list[BaseMessage]:
    """The answer prompt; ``earlier`` is the previous question of a follow-up that was not
    rewritten, shown before the question so that the model reads what it refers to; a
    ``second_reading`` tells the model that its sources were chosen as answering the question
    (the system prompt stays the same, so its cached prefix is reused)."""
    refusal = load_prompt("refusal", lang)
    system = render_prompt("answer_system", lang, refusal=refusal)
    if ranked is not None and config.decisive_prompt:
        gloss = lang == "en" and config.gloss_prompt
        sources = format_decisive(ranked, config, question if gloss else None)
    else:
        sources = format_sources(passages, question, config, lang, extra_terms)
    if earlier:
        question = render_prompt("follow_up", lang, earlier=earlier[:200], question=question)
    if second_reading:
        question = render_prompt("second_reading", lang, question=question)
    user = render_prompt("answer_user", lang, sources=sources, question=question)
    return [SystemMessage(content=system), HumanMessage(content=user)]


def format_decisive(
    ranked: Sequence[Decisive], config: ChainConfig, gloss_for: str | None = None
) -> str:
    """The prompt's sources: the decisive sentences (fewer, better ones instead of six cut
    excerpts), grouped by passage in the passages' order, each passage with its number; with
    ``gloss_for`` (an English question), a Chinese passage's terms glossed after it."""
    chosen = complete_lists(
        choose(ranked, config.prompt_sentences, config.prompt_chars, config.prompt_relative)
    )
    by_passage: dict[int, list[Decisive]] = {}
    for d in chosen:
        by_passage.setdefault(d.n, []).append(d)
    blocks = []
    for n in sorted(by_passage):
        group = sorted(by_passage[n], key=lambda d: d.position)
        joiner = " " if group[0].passage.lang == "en" else ""
        body = joiner.join(d.text for d in group)
        if gloss_for is not None and group[0].passage.lang == "zh":
            terms = prompt_terms(group, gloss_for)
            if terms:
                body += f"\nTerms: {terms}"
        blocks.append(passage_block(group[0].passage, body))
    return "\n".join(blocks)


#: the extractive backend's answer, which is also the basis shown under a model's answer
EXTRACTIVE_SENTENCES, EXTRACTIVE_CHARS = 4, 600
#: a basis from the answer's own language when the best sentences were the other's
BASIS_SENTENCES, BASIS_CHARS = 3, 420
#: such a basis sentence scores at least this share of the best own-language score
BASIS_RELATIVE = 0.75
#: the model's "not covered" is overruled (the basis shown instead) when a sentence holds the
#: kind of thing a factoid question asks and passes the support check, or when a sentence
#: holds this share of an open question's terms
OVERRIDE_MODEL_REFUSAL_SHARE = 0.8


def _no_wider(config: ChainConfig, sentences: int, chars: int) -> ChainConfig:
    """``config`` with its prompt budget capped at ``sentences`` / ``chars``."""
    return replace(
        config,
        prompt_sentences=min(config.prompt_sentences, sentences),
        prompt_chars=min(config.prompt_chars, chars),
    )


def _worth_a_second_reading(support: Support) -> bool:
    """The model said "not covered" where a sentence holds at least the share of the
    question's terms that a factoid answer needs (``MIN_SHARE``, calibrated on held-out sets):
    the open questions' looser threshold alone does not contradict the model."""
    return support.supported and support.best_share >= MIN_SHARE


def _overrules_model_refusal(support: Support) -> bool:
    return (support.slot is not None and support.supported) or (
        support.best_share >= OVERRIDE_MODEL_REFUSAL_SHARE
    )


#: an extractive answer quotes the question's language when its best sentence there scores at
#: least this share of the best sentence overall (parallel zh/en documents say the same thing)
OWN_LANGUAGE_SHARE = 0.7


def extractive_pick(ranked: Sequence[Decisive], lang: str) -> list[Decisive]:
    """The sentences the extractive backend answers with and a model's answer quotes as its
    basis: the same pick, so that the model's answer holds every fact the extractive one does
    (it adds and never loses). A list quoted in part is quoted whole."""
    return complete_lists(
        choose(own_language_first(ranked, lang), EXTRACTIVE_SENTENCES, EXTRACTIVE_CHARS)
    )


def own_language_first(ranked: Sequence[Decisive], lang: str) -> list[Decisive]:
    """The decisive sentences in the question's language, when they are nearly as good as the
    best; all of them otherwise (an English question over Chinese-only laws)."""
    own = [d for d in ranked if d.passage.lang == lang]
    if own and ranked and own[0].score >= OWN_LANGUAGE_SHARE * ranked[0].score:
        return own
    return list(ranked)


#: sentences of the basis shown besides the parties' clauses (what no party clause says: the
#: charter, the exit rules, the indicators)
BEYOND_PARTIES = 2


def beyond_parties(chosen: Sequence[Decisive], parties: Sequence[PartyClause]) -> list[Decisive]:
    """The best of ``chosen`` that holds no party clause already shown."""
    rest = [d for d in chosen if not any(c.text in d.text for c in parties)]
    return rest[:BEYOND_PARTIES]


_FIGURES_HEADING = "Figures in the cited sources"
MAX_FIGURES = 6


def figure_lines(chosen: Sequence[Decisive], lang: str) -> str:
    """For an English answer over Chinese sentences: their dates, amounts, periods and shares
    as English writes them, with the Chinese they render and the passage they come from
    ("- 10,000 to 50,000 yuan (一万元以上五万元以下)[3]"). A small model translating figures
    gets them wrong; these lines keep them exact."""
    if lang != "en":
        return ""
    lines: list[str] = []
    seen: set[str] = set()
    for d in sorted(chosen, key=lambda d: (d.n, d.position)):
        if d.passage.lang != "zh":
            continue
        for english, chinese in english_figures(d.text):
            if english in seen:
                continue
            seen.add(english)
            lines.append(f"- {english} ({chinese})[{d.n}]")
    if not lines:
        return ""
    return f"**{_FIGURES_HEADING}**\n" + "\n".join(lines[:MAX_FIGURES])


#: a basis quoted from the answer's language alone needs a sentence holding this share of the
#: question's terms (the other language's sentence scored best: its share is inflated when the
#: glossary translates only a term or two of the question)
OWN_BASIS_SHARE = 0.35


def own_language_basis(ranked: Sequence[Decisive], lang: str) -> list[Decisive]:
    """The basis from the answer's own language, when the best sentences were the other's."""
    own = [d for d in ranked if d.passage.lang == lang and d.slot_ok]
    if not own or own[0].share < OWN_BASIS_SHARE:
        return []
    return complete_lists(choose(own, BASIS_SENTENCES, BASIS_CHARS, relative=BASIS_RELATIVE))


def format_extractive(chosen: Sequence[Decisive]) -> str:
    """One cited line per sentence, in passage order (reads more naturally), the marker right
    after the sentence's end (no quotation marks: the citation check reads "。”" as the end of
    an unmarked sentence)."""
    ordered = sorted(chosen, key=lambda d: (d.n, d.position))
    return "\n".join(f"- {_unbulleted(d.text)}[{d.n}]" for d in ordered)


#: a list bullet that a Markdown source writes before its item ("- 1996年版讲…")
_BULLET = re.compile(r"^\s*[-*•·]\s+")


def _unbulleted(text: str) -> str:
    """A quoted line without the source's own bullet: the basis gives each its "- " once
    (it showed "- - 1996年版讲…")."""
    return _BULLET.sub("", text.strip()) or text.strip()


_BASIS_HEADING = {"zh": "依据（原文）", "en": "Basis (quoted from the sources)"}
#: the model wrote nothing (or "not covered") where a passage in the other language states
#: the answer: its figures and terms are shown, and this says where the text is
_SILENT_MODEL_NOTE = {
    "en": (
        "The model wrote no explanation here, but the cited sources state the answer: their "
        "figures and terms follow, and their text is under Sources."
    ),
    "zh": "模型未给出解释，但所引资料载有答案：其中的数字和术语见下，原文见“来源”。",
}
#: the model's every sentence stated a figure its sources do not hold and was removed
_DROPPED_MODEL_NOTE = {
    "en": (
        "The model's explanation stated a figure the cited sources do not hold and was removed; "
        "the sources' own figures and terms follow, and their text is under Sources."
    ),
    "zh": "模型的解释写出了所引资料中没有的数字，已删去；资料中的数字和术语见下，原文见“来源”。",
}


def join_sections(*sections: str) -> str:
    """The answer's parts (the model's text, the parties, the basis, the figures), the empty
    ones left out, one blank line apart."""
    return "\n\n".join(part.strip("\n").rstrip() for part in sections if part.strip())


def append_basis(answer: str, basis: Sequence[Decisive], lang: str) -> str:
    """The decisive sentences verbatim under the model's explanation: the answer then always
    carries the passage's own terms, figures and lists, whatever the model made of them."""
    head = f"**{_BASIS_HEADING.get(lang, _BASIS_HEADING['en'])}**"
    return join_sections(answer, head + "\n" + format_extractive(basis))


_SLOT_WORDS = {
    "zh": {
        "date": "具体时间",
        "percent": "具体比例",
        "money": "具体金额",
        "period": "具体期限",
        "number": "具体数字",
        None: "问题所问的内容",
    },
    "en": {
        "date": "the date asked for",
        "percent": "the share asked for",
        "money": "the amount asked for",
        "period": "the period asked for",
        "number": "the figure asked for",
        None: "what the question asks",
    },
}


def _section_label(section: str, lang: str) -> str:
    """A section title for a refusal in ``lang``: a Chinese title in an English refusal becomes
    its article or chapter number ("第十六条" -> "Article 16"), or nothing."""
    if lang != "en" or not HAN_RUN.search(section):
        return section
    parts = [e for e, _ in english_figures(section) if e.startswith(("Article", "Chapter"))]
    return ", ".join(parts)


def _found_topics(passages: Sequence[Passage], lang: str) -> str:
    """The documents and sections of the first three passages, for a refusal to name."""
    topics = []
    for p in passages[:3]:
        name = p.source.rsplit(".", 1)[0]
        section = _section_label(p.section.rsplit(" > ", 1)[-1] if p.section else "", lang)
        topic = (
            f"{name}（{section}）"
            if section and lang == "zh"
            else (f"{name} ({section})" if section else name)
        )
        if topic not in topics:
            topics.append(topic)
    return "、".join(topics) if lang == "zh" else "; ".join(topics)


def explain_refusal(question: str, support: Support, passages: Sequence[Passage], lang: str) -> str:
    """The refusal, with what was found and what is missing, in the question's language; the
    closest passages stay in the answer's contexts for the user to check."""
    lang = lang if lang in ("zh", "en") else "en"
    found = _found_topics(passages, lang)
    base = load_prompt("refusal", lang)
    if support.missing:
        what = "、".join(support.missing) if lang == "zh" else ", ".join(support.missing)
        if lang == "zh":
            return (
                f"{base}检索到的资料涉及{found}，但没有一段提到{what}。"
                "最接近的资料列在下面，供您核对。"
            )
        return (
            f"{base} The closest passages are about {found}, but none mentions {what}. "
            "They are listed below so that you can check."
        )
    what = _SLOT_WORDS[lang].get(support.slot, _SLOT_WORDS[lang][None])
    if lang == "zh":
        return (
            f"{base}检索到的资料涉及{found}，但没有一句说明{what}。最接近的资料列在下面，供您核对。"
        )
    return (
        f"{base} The closest passages are about {found}, but none states {what}. "
        "They are listed below so that you can check."
    )


def explain_model_refusal(passages: Sequence[Passage], lang: str) -> str:
    """The model read the passages and found no answer in them: the refusal says what they
    were about, so that a user knows where to look (the chat lists them under the answer)."""
    lang = lang if lang in ("zh", "en") else "en"
    base = load_prompt("refusal", lang)
    if not passages:
        return base
    found = _found_topics(passages, lang)
    if lang == "zh":
        return (
            f"{base}检索到的资料涉及{found}，但都没有直接回答这个问题。"
            "最接近的资料列在下面，供您核对。"
        )
    return (
        f"{base} The closest passages are about {found}, but none answers the question "
        "directly. They are listed below so that you can check."
    )


def evidence_is_adequate(passages: Sequence[Passage], config: ChainConfig) -> bool:
    if not passages:
        return False
    best_similarity = max((p.similarity or 0.0) for p in passages)
    best_keyword = max((p.keyword_score or 0.0) for p in passages)
    return best_similarity >= config.min_similarity or best_keyword >= config.min_keyword_score


_ECHO = re.compile(r"</?(?:passage|sources|资料)[^>]*>|^(?:回答|Answer)\s*[:：]\s*", re.M)


def strip_prompt_echo(text: str) -> str:
    """Small models sometimes repeat the prompt's markup; it is never part of an answer."""
    return _ECHO.sub("", text).strip()


def drop_unsupported_figures(
    text: str, passages: Sequence[Passage], allowed: Sequence[str] = (), small: float = SMALL
) -> tuple[str, list[str]]:
    """Removes the sentences stating a figure (amount, share, period, year, article number)
    that their evidence does not hold: an invented number is worse than a missing one in
    policy advice. A sentence that cites passages must find its figures in those passages
    (their text and section path; a file name is not evidence) or the question; one that
    cites nothing, in any passage. ("8万余册" must not become "412万册" because 412 is in
    another passage.)"""
    by_rank = {p.rank: f"{p.text}\n{p.section}" for p in passages}
    question = known_figures(list(allowed))
    anywhere = known_figures([*allowed, *by_rank.values()])
    cache: dict[tuple[int, ...], set[float]] = {}
    kept, dropped = [], []
    for sentence in split_keep(text):
        cited = tuple(sorted(set(cited_numbers(sentence)) & set(by_rank)))
        if cited:
            if cited not in cache:
                cache[cited] = known_figures([by_rank[n] for n in cited]) | question
            known = cache[cited]
        else:
            known = anywhere
        if unsupported_figures(sentence, known, small):
            dropped.append(sentence.strip())
        else:
            kept.append(sentence)
    return "".join(kept), dropped


_CONTENT = re.compile(r"\w")  # a letter or digit of any script (Han included)


def _has_content(text: str) -> bool:
    """Some words left once markers, list labels and punctuation are gone."""
    body = re.sub(r"[\[【［]\s*\d[^\]】］]*[\]】］]", "", text)
    return len(_CONTENT.findall(body)) >= 6


def model_refused(text: str, lang: str) -> bool:
    head = text.strip()[:120]
    refusal = load_prompt("refusal", lang)
    return refusal[:12] in head or any(h in head for h in _REFUSAL_HINTS)


class _RefusalHold:
    """The model's tokens pass on at once, except a beginning that may still be the refusal
    sentence: that is held until the text leaves it (then passed on) or the caller releases it
    (a second reading replaces it)."""

    def __init__(self, refusal: str) -> None:
        self.refusal = refusal.strip()
        self.held: list[str] = []
        self.holding = True

    def feed(self, token: str) -> str:
        """The text to send now ("" while held)."""
        if not self.holding:
            return token
        self.held.append(token)
        text = "".join(self.held).lstrip()
        if self.refusal.startswith(text) or text.startswith(self.refusal):
            return ""
        return self.release()

    def release(self) -> str:
        out, self.held, self.holding = "".join(self.held), [], False
        return out


def _shown(result: Answer, text: str, started: float) -> TokenEvent:
    """``text`` as the user is shown it; the first such text is the answer's first token."""
    if result.first_token_s is None:
        result.first_token_s = time.perf_counter() - started
    return TokenEvent(text)


# ------------------------------------------------------------------------ the advisor


@dataclass(frozen=True, slots=True)
class TokenEvent:
    text: str


@dataclass(frozen=True, slots=True)
class StatusEvent:
    stage: str  # "condense" | "retrieve" | "generate" | "reread"


@dataclass(frozen=True, slots=True)
class SourcesEvent:
    """The passages the answer is being written from, sent as soon as retrieval is done
    (before the model's first token), so that a user can read them meanwhile."""

    passages: tuple[Passage, ...]
    seconds: float  # since the question arrived


@dataclass(frozen=True, slots=True)
class FinalEvent:
    answer: Answer


AnswerEvent = TokenEvent | StatusEvent | SourcesEvent | FinalEvent


class Advisor:
    """Answers questions with citations; ``stream`` yields tokens as they come."""

    def __init__(
        self,
        llm: BaseChatModel | None,
        retriever: HybridRetriever,
        *,
        llm_label: str,
        config: ChainConfig | None = None,
    ) -> None:
        self.llm = llm
        self.retriever = retriever
        self.llm_label = llm_label
        self.config = config or ChainConfig()
        rewriter = llm if self.config.rewrite_follow_ups else None
        self.standalone_chain = build_standalone_question_chain(rewriter, self.config)
        self.retrieval_chain = build_retrieval_chain(retriever, self.config)
        self.generation_chain = build_generation_chain(llm) if llm is not None else None
        self.glossary = load_glossary()

    def warm_up(self) -> None:
        """Prepare the retriever (keyword index, document names, embedder) and the model
        for both languages' prompts, where the backend supports it, so that the first
        question waits for neither."""
        self.retriever.warm_up()
        warm_up_terms()
        warm = getattr(self.llm, "warm_up", None)
        if callable(warm):
            warm(
                [
                    render_prompt("answer_system", lang, refusal=load_prompt("refusal", lang))
                    for lang in ("zh", "en")
                ]
            )

    def prompt_config(self) -> ChainConfig:
        """The configuration the answer prompt is built with: ``config``, with the prompt
        budget that suits the model's measured prompt speed when it follows the CPU."""
        choose_budget = self.config.prompt_budget_for_speed
        if choose_budget is None:
            return self.config
        sentences, chars = choose_budget(getattr(self.llm, "prompt_tokens_per_s", None))
        if (sentences, chars) == (self.config.prompt_sentences, self.config.prompt_chars):
            return self.config
        return replace(self.config, prompt_sentences=sentences, prompt_chars=chars)

    def answer(
        self,
        question: str,
        history: Sequence[HistoryTurn] | None = None,
        *,
        flt: RetrievalFilter | None = None,
    ) -> Answer:
        final: Answer | None = None
        for event in self.stream(question, history, flt=flt):
            if isinstance(event, FinalEvent):
                final = event.answer
        assert final is not None
        return final

    def _answer_turn(self) -> AbstractContextManager[object]:
        """The compute turn a whole answer takes when its model generates on this machine's
        cores (``takes_compute_turns``): retrieval, generation and the citation check in one
        turn. Taken step by step, each of an answer's three turns waited for the embedding
        batch of an ingest under way (bench/gate_interference.py: 4 answers 15.8 s alone,
        27.6 s beside an embedding loop, 8.8 s of it waiting for the gate). A remote model
        or none takes no turn for the answer: only its retrieval and checks do."""
        if getattr(self.llm, "takes_compute_turns", False):
            return compute_gate
        return nullcontext()

    def stream(
        self,
        question: str,
        history: Sequence[HistoryTurn] | None = None,
        *,
        flt: RetrievalFilter | None = None,
    ) -> Iterator[AnswerEvent]:
        question = question.strip()
        if not question:
            raise ValueError("the question is empty")
        with self._answer_turn():
            yield from self._stream(question, history, flt)

    def _stream(
        self,
        question: str,
        history: Sequence[HistoryTurn] | None,
        flt: RetrievalFilter | None,
    ) -> Iterator[AnswerEvent]:
        started = time.perf_counter()
        lang = question_lang(question)
        history = list(history or [])
        rewrite = bool(history) and self.config.rewrite_follow_ups and self.llm is not None
        if rewrite:
            yield StatusEvent("condense")
        try:
            standalone = self.standalone_chain.invoke({"question": question, "history": history})
        except AdvisorError:
            raise
        except Exception as exc:
            raise LLMError(f"the language model failed ({self.llm_label}): {exc}") from exc
        yield StatusEvent("retrieve")
        passages = self.retrieval_chain.invoke({"query": standalone, "filter": flt})
        result = Answer(
            question=question,
            answer="",
            refused=False,
            citations=[],
            contexts=passages,
            lang=lang,
            llm=self.llm_label,
            standalone_question=standalone,
        )
        standalone_lang = question_lang(standalone)
        check = check_evidence(standalone, passages, standalone_lang, self.glossary)
        terms = self.glossary.translate_terms(standalone, standalone_lang)
        ranked, slot = decisive_sentences(standalone, passages, standalone_lang, terms)
        support = assess_support(standalone, ranked, slot, standalone_lang, self.glossary)
        result.support = support
        if not evidence_is_adequate(passages, self.config) or not check.adequate:
            result.answer = load_prompt("refusal", lang)
            result.refused, result.refusal_reason = True, "no_evidence"
            log.info("refused without the model: %s", check.reason())
            yield TokenEvent(result.answer)
        elif self.config.support_check and not support.supported:
            result.answer = explain_refusal(standalone, support, passages, lang)
            result.refused, result.refusal_reason = True, "not_stated"
            log.info("refused: %s", support.reason)
            yield TokenEvent(result.answer)
        elif self.generation_chain is None:
            result.sources_s = time.perf_counter() - started
            yield SourcesEvent(tuple(passages), result.sources_s)
            label = extractive_label(lang)
            parties = self._parties(standalone, standalone_lang, ranked, lang)
            picked = extractive_pick(ranked, lang)
            if parties:
                rest = beyond_parties(picked, parties)
                raw = join_sections(format_parties(parties, lang), format_extractive(rest))
            else:
                raw = join_sections(
                    format_extractive(picked),
                    figure_lines(picked, lang),
                    term_lines(picked, standalone, lang),
                )
            yield TokenEvent(f"{label}\n\n{raw}")
            self._finish(result, raw)
            if not result.refused:
                result.answer = f"{label}\n\n{result.answer}"
        else:
            result.sources_s = time.perf_counter() - started
            yield SourcesEvent(tuple(passages), result.sources_s)
            yield StatusEvent("generate")
            # parallel zh/en documents: the model reads the sentences in the answer's
            # language when they are nearly as good (it quotes rather than translates)
            mine = own_language_first(ranked, lang)
            # a follow-up not rewritten: the model reads it after the question it follows
            earlier = "" if rewrite else earlier_question(history)
            messages = build_answer_messages(
                question if earlier else standalone,
                passages,
                lang,
                self.prompt_config(),
                terms,
                ranked=mine,
                earlier=earlier,
            )
            # a beginning that may still be the bare "not covered" is held back: if it is and
            # a sentence holds the question's terms, the model reads again, and the user sees
            # only the second answer
            hold = _RefusalHold(load_prompt("refusal", lang))
            parts: list[str] = []
            for token in self._generate(messages, started):
                parts.append(token)
                if sent := hold.feed(token):
                    yield _shown(result, sent, started)
            if (
                self.config.second_reading
                and _worth_a_second_reading(support)
                and model_refused(strip_prompt_echo("".join(parts)), lang)
            ):
                # the model and the support check disagree: the model reads the sentences
                # the extractive answer would quote, told that they were chosen as answering
                # (a small model refuses a yes/no question whose passage says "不得…")
                log.info("the model said not covered; second reading of the decisive sentences")
                result.second_reading = True
                yield StatusEvent("reread")
                again = build_answer_messages(
                    question if earlier else standalone,
                    passages,
                    lang,
                    _no_wider(self.prompt_config(), EXTRACTIVE_SENTENCES, EXTRACTIVE_CHARS),
                    terms,
                    ranked=mine,
                    earlier=earlier,
                    second_reading=True,
                )
                parts = []
                for token in self._generate(again, started):
                    parts.append(token)
                    yield _shown(result, token, started)
            elif held := hold.release():
                yield _shown(result, held, started)
            # the basis is quoted only in the answer's own language: an answer stays in one
            # language (an English answer over Chinese sources shows their text under Sources)
            chosen = extractive_pick(ranked, lang) if self.config.basis else []
            basis = [d for d in chosen if d.passage.lang == lang]
            if self.config.basis and not basis:
                basis = own_language_basis(ranked, lang)
            raw = self._one_language(result, "".join(parts))
            by_party = self.config.basis
            parties = self._parties(standalone, standalone_lang, ranked, lang) if by_party else []
            figures = join_sections(
                figure_lines(chosen, lang), term_lines(chosen, standalone, lang)
            )
            self._finish(result, raw, basis, support, parties, figures)
        result.latency_s = time.perf_counter() - started
        yield FinalEvent(result)

    def _generate(self, messages: list[BaseMessage], started: float) -> Iterator[str]:
        """The model's tokens; a failure or the question's time limit is one clear error."""
        assert self.generation_chain is not None
        try:
            for token in self.generation_chain.stream(messages):
                yield token
                if time.perf_counter() - started > self.config.question_timeout_s:
                    raise LLMError(
                        f"the answer took longer than {self.config.question_timeout_s:.0f} s "
                        "(ADVISOR_QUESTION_TIMEOUT_S) and was stopped"
                    )
        except AdvisorError:
            raise
        except Exception as exc:  # network, timeout, model failure: one clear error
            raise LLMError(f"the language model failed ({self.llm_label}): {exc}") from exc

    def _one_language(self, result: Answer, raw: str) -> str:
        """The model's text in the question's language only (``advisor.drift``)."""
        raw = strip_prompt_echo(raw)  # before mending: the echo's tags are Latin words
        if not self.config.one_language:
            return raw
        evidence = [result.question, result.standalone_question, *(p.text for p in result.contexts)]
        mended = one_language(raw, result.lang, evidence, self.glossary)
        if mended.changes or mended.dropped:
            log.info("language mended: %s; sentences dropped: %s", mended.changes, mended.dropped)
        result.language_changes = [*mended.changes, *(f"-[{s}]" for s in mended.dropped)]
        return mended.text

    def _parties(
        self, question: str, question_language: str, ranked: Sequence[Decisive], lang: str
    ) -> list[PartyClause]:
        """Each party's clauses (``advisor.parties``) for an advisory question, else none."""
        if not self.config.by_party or not is_advisory(question, question_language):
            return []
        return party_clauses(ranked, lang)

    def _finish(
        self,
        result: Answer,
        raw: str,
        basis: Sequence[Decisive] = (),
        support: Support | None = None,
        parties: Sequence[PartyClause] = (),
        figures: str = "",
    ) -> None:
        raw = strip_prompt_echo(raw)
        said_no = model_refused(raw, result.lang)
        silent = said_no or not raw.strip()
        if silent and support is not None and not _overrules_model_refusal(support):
            # the model said "not covered" (or nothing) and the support check agrees
            basis, parties, figures = (), (), ""
        if (said_no or not raw.strip()) and not basis and not parties and not figures:
            result.answer = explain_model_refusal(result.contexts, result.lang)
            result.refused, result.refusal_reason = True, "model"
            return
        if said_no or not raw.strip():
            # the support check found a sentence that states the answer: show it as the
            # answer's basis rather than the model's "not covered" (a small model refuses
            # questions whose passages give a year as a date)
            raw = ""
        # the model's own sentences first: a count the question asks for must be in the
        # sentence's sources even when small ("10 pilot cities, including Beijing…" [2]);
        # with all of them gone, the basis or the figure lines of an English answer over
        # Chinese text still answer ("10,000 to 50,000 yuan (一万元以上五万元以下)"), a list of
        # the passages' terms alone does not
        standalone_lang = question_lang(result.standalone_question or result.question)
        small = (
            1
            if asks_count(result.standalone_question or result.question, standalone_lang)
            else SMALL
        )
        allowed = [result.question, result.standalone_question]
        raw, invented = drop_unsupported_figures(raw, result.contexts, allowed, small)
        if (
            invented
            and not _has_content(raw)
            and not basis
            and not parties
            and _FIGURES_HEADING not in figures
        ):
            log.info("the model's every sentence stated a figure absent from the evidence")
            result.dropped_claims = invented
            result.answer = load_prompt("refusal", result.lang)
            result.refused, result.refusal_reason = True, "unsupported"
            return
        if parties:  # an advisory answer's basis: each party's clauses, under its party
            raw = join_sections(raw, format_parties(parties, result.lang))
            rest = beyond_parties(basis, parties)
            if rest:
                raw = append_basis(raw, rest, result.lang)
        elif basis:
            raw = append_basis(raw, basis, result.lang)
        if not raw.strip() and figures:  # the passages state it in the other language
            notes = _DROPPED_MODEL_NOTE if invented else _SILENT_MODEL_NOTE
            raw = notes.get(result.lang, notes["en"])
        raw = join_sections(raw, figures)
        raw, dropped = drop_unsupported_figures(raw, result.contexts, allowed)
        result.dropped_claims = invented + dropped
        if not _has_content(raw):
            log.info("every claim stated a figure absent from the evidence: %s", dropped)
            result.answer = load_prompt("refusal", result.lang)
            result.refused, result.refusal_reason = True, "unsupported"
            return
        text, citations, removed = check_citations(
            raw, result.contexts, support=self.retriever.support_matrix
        )
        citations = label_citations(citations, result.contexts, self.retriever.document_record)
        text = join_sections(text, superseded_note(citations, result.lang))
        result.answer, result.citations, result.removed_markers = text, citations, removed
