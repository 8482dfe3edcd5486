"""Many sessions against one deployment: the scenario the load test (tests/integration/
test_load.py) asserts on and the load benchmark (bench/load.py) measures.

One ``AdvisorService`` is what every Streamlit session of an app process shares (it is cached
with ``st.cache_resource``), so a session here is a thread with its own user working through
that service, as the pages do: members add a plan of their own, ask about it and about the
shared knowledge base, keep a conversation and save the results; administrators ingest new
documents into the shared knowledge base while the others ask. Each member's plan carries a
code no other session knows, so an answer, a citation, a conversation or a result that shows
another session's code is cross-talk.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SHARED_DOCS = {
    "order_class.md": (
        "---\ntitle: 订单班\nkind: case\n---\n\n# 订单班\n\n"
        "订单班由企业参与课程设计，企业承诺录用合格毕业生。学校负责教学组织和学生管理。"
        "订单班的课程由校企双方共同开发，企业每年提供奖学金。\n"
    ),
    "shared_base.md": (
        "---\ntitle: 共享实训基地\nkind: case\n---\n\n# 共享实训基地\n\n"
        "政府投资建设、院校运营、企业提供设备，共享实训基地面向多所院校开放。"
        "基地按使用工时收取成本性费用，收入用于设备维护。\n"
    ),
    "dual_teachers.md": (
        "---\ntitle: 双师型教师\nkind: policy\n---\n\n# 双师型教师\n\n"
        "专业教师每五年到企业实践累计不少于六个月。企业工程师可以担任兼职教师，"
        "学校按课时支付报酬。\n"
    ),
}
SHARED_QUESTIONS = [
    "订单班中企业承担什么责任？",
    "共享实训基地如何收费？",
    "专业教师到企业实践有什么要求？",
    "What does the enterprise do in an order class?",
]
ADMIN_DOC = (
    "---\ntitle: {title}\nkind: policy\n---\n\n# {title}\n\n"
    "{title}规定：学院与企业共建{topic}，企业投入设备{n}台，学院提供场地{m}平方米。"
    "双方每年评估一次合作成效，并按评估结果调整投入。\n"
)
TOPICS = ["产业学院", "技术研发中心", "现代学徒制班", "职教集团", "工程师学院", "技能大师工作室"]


def member_code(i: int, run: str) -> str:
    return f"HZ{run}{i:02d}"


def plan_text(code: str, i: int) -> str:
    return (
        f"# 合作方案{code}\n\n"
        f"本方案的合作代号是{code}。学院与第{i + 1}家企业共建{code}实训中心，"
        f"企业捐赠{10 + i}台数控设备，并派驻{i + 2}名工程师。\n"
    )


@dataclass(slots=True)
class Op:
    session: str
    kind: str  # ask_shared, ask_plan, add_plan, ingest_shared, save_result
    seconds: float


@dataclass(slots=True)
class LoadResult:
    sessions: int
    wall_s: float
    ops: list[Op] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    crosstalk: list[str] = field(default_factory=list)

    def latencies(self, kind: str) -> list[float]:
        return [op.seconds for op in self.ops if op.kind == kind]

    def answers(self) -> int:
        return sum(1 for op in self.ops if op.kind.startswith("ask"))

    def summary(self) -> dict[str, Any]:
        kinds = sorted({op.kind for op in self.ops})
        return {
            "sessions": self.sessions,
            "wall_s": round(self.wall_s, 2),
            "answers": self.answers(),
            "answers_per_min": round(60 * self.answers() / self.wall_s, 1) if self.wall_s else 0,
            "ops_per_s": round(len(self.ops) / self.wall_s, 2) if self.wall_s else 0,
            "errors": len(self.errors),
            "crosstalk": len(self.crosstalk),
            "latency_s": {
                kind: {
                    "n": len(self.latencies(kind)),
                    "p50": round(pct(self.latencies(kind), 50), 3),
                    "p95": round(pct(self.latencies(kind), 95), 3),
                }
                for kind in kinds
            },
        }


def pct(values: list[float], p: int) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def seed(service: Any, folder: Path) -> None:
    paths = []
    for name, text in SHARED_DOCS.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    report = service.ingest(paths)
    assert report.ok, [o.message for o in report.failed]


def run_scenario(
    service: Any,
    *,
    sessions: int = 8,
    admins: int = 2,
    rounds: int = 2,
    run_id: str | None = None,
    concurrent: bool = True,
) -> LoadResult:
    """``sessions`` concurrent sessions, ``admins`` of them ingesting; every session asks
    ``rounds`` times about the shared knowledge base and (members) ``rounds`` times about their
    own plan. Returns timings, errors and every cross-talk seen. Not ``concurrent``: the same
    sessions one after the other (the baseline)."""
    run = run_id or f"{random.randrange(10**4):04d}"
    members = [i for i in range(sessions) if i >= admins]
    codes = {i: member_code(i, run) for i in members}
    result = LoadResult(sessions=sessions, wall_s=0.0)
    lock = threading.Lock()
    start = threading.Barrier(sessions if concurrent else 1)

    def timed(session: str, kind: str, call: Callable[[], Any]) -> Any:
        began = time.perf_counter()
        value = call()
        with lock:
            result.ops.append(Op(session, kind, time.perf_counter() - began))
        return value

    def flag(message: str) -> None:
        with lock:
            result.crosstalk.append(message)

    def others(mine: str | None) -> list[str]:
        return [c for c in codes.values() if c != mine]

    def check_answer(user: str, answer: Any, allowed: set[str], code: str | None) -> None:
        text = answer.answer + " ".join(c.quote for c in answer.citations)
        for other in others(code):
            if other in text:
                flag(f"{user}: the answer shows {other}: {answer.answer[:80]}")
        stray = {c.source for c in answer.citations} - allowed
        if stray:
            flag(f"{user}: cites {sorted(stray)}")

    def session(i: int, folder: Path) -> None:
        user = f"admin{i}" if i < admins else f"member{i}"
        code = codes.get(i)
        advisor = service.advisor()
        conversation = service.conversations.create(user, title=f"{user}'s questions")
        shared_allowed = set(SHARED_DOCS) | {f"policy_{run}_{j}.md" for j in range(64)}
        workspace = service.workspace(user)
        start.wait()
        plan_name = f"plan_{user}.md"
        if code is not None:
            plan = folder / plan_name
            plan.write_text(plan_text(code, i), encoding="utf-8")
            report = timed(user, "add_plan", lambda: workspace.add_plans([plan]))
            assert report.ok, [o.message for o in report.failed]
        records = []
        for r in range(rounds):
            if i < admins:  # an administrator adds a policy to the shared knowledge base
                n = i * rounds + r
                doc = folder / f"policy_{run}_{n}.md"
                topic = TOPICS[n % len(TOPICS)]
                doc.write_text(
                    ADMIN_DOC.format(title=f"{topic}管理办法{n}", topic=topic, n=n + 3, m=100 * n),
                    encoding="utf-8",
                )
                report = timed(user, "ingest_shared", lambda doc=doc: service.ingest([doc]))
                assert report.ok, [o.message for o in report.failed]
            question = SHARED_QUESTIONS[(i + r) % len(SHARED_QUESTIONS)]
            answer = timed(user, "ask_shared", lambda q=question: advisor.answer(q))
            check_answer(user, answer, shared_allowed, code)
            records.append(answer.to_record(f"s{r}"))
            service.conversations.add_message(conversation.id, "user", question, owner=user)
            service.conversations.add_message(
                conversation.id, "assistant", answer.answer, answer.to_record(), owner=user
            )
            if code is None:
                continue
            question = f"合作代号{code}的实训中心，企业捐赠了多少台数控设备？"
            kbs, flt = workspace.plan_search([plan_name])
            plan_advisor = service.advisor(kbs)
            answer = timed(
                user,
                "ask_plan",
                lambda q=question, a=plan_advisor, f=flt: a.answer(q, flt=f),
            )
            check_answer(user, answer, shared_allowed | {plan_name}, code)
            if plan_name not in {p.source for p in answer.contexts}:
                flag(f"{user}: their own plan was not retrieved")
            records.append(answer.to_record(f"p{r}"))
        timed(user, "save_result", lambda: workspace.save_result("batch", user, records))

    def guarded(i: int, folder: Path) -> None:
        try:
            session(i, folder)
        except BaseException as exc:  # every failure is a finding, reported by session
            with lock:
                result.errors.append(
                    f"session {i}: {exc!r}\n{''.join(traceback.format_exception(exc))[-1500:]}"
                )

    with tempfile.TemporaryDirectory(prefix="advisor-load-") as folder_name:
        folders = [Path(folder_name) / str(i) for i in range(sessions)]
        for f in folders:
            f.mkdir()
        threads = [
            threading.Thread(target=guarded, args=(i, folders[i]), name=f"session-{i}")
            for i in range(sessions)
        ]
        began = time.perf_counter()
        for t in threads:
            t.start()
            if not concurrent:
                t.join()
        for t in threads:
            t.join()
        result.wall_s = time.perf_counter() - began

    check_after(service, result, codes, admins, rounds, run)
    return result


def check_after(
    service: Any, result: LoadResult, codes: dict[int, str], admins: int, rounds: int, run: str
) -> None:
    """What every session left behind is whole and only its own."""
    kb = service.knowledge_base()
    docs = {d.source: d for d in kb.list_documents()}
    expected = set(SHARED_DOCS) | {f"policy_{run}_{n}.md" for n in range(admins * rounds)}
    if not expected <= set(docs):
        result.errors.append(f"shared knowledge base lacks {sorted(expected - set(docs))}")
    chunks: dict[str, int] = {}
    for chunk in kb.iter_chunks():
        chunks[chunk.metadata["source"]] = chunks.get(chunk.metadata["source"], 0) + 1
    for source, record in docs.items():
        if chunks.get(source, 0) != record.chunks:
            result.errors.append(f"{source}: {chunks.get(source, 0)} of {record.chunks} chunks")
    if kb._raw_records(where={"dirty": True}):
        result.errors.append("dirty records left in the shared knowledge base")
    for i, code in codes.items():
        user = f"member{i}"
        workspace = service.workspace(user)
        plans = [p.source for p in workspace.plans()]
        if plans != [f"plan_{user}.md"]:
            result.crosstalk.append(f"{user} has plans {plans}")
        for job in workspace.results():
            text = str(workspace.result(job.id).result)
            for other in codes.values():
                if other != code and other in text:
                    result.crosstalk.append(f"{user}'s result shows {other}")
        for conversation in service.conversations.list_conversations(user):
            for message in service.conversations.messages(conversation.id, user):
                for other in codes.values():
                    if other != code and other in message.content:
                        result.crosstalk.append(f"{user}'s conversation shows {other}")


def percentiles_table(result: LoadResult) -> str:
    rows = [f"{'operation':<14}{'n':>5}{'p50 s':>9}{'p95 s':>9}{'mean s':>9}"]
    for kind in sorted({op.kind for op in result.ops}):
        values = result.latencies(kind)
        rows.append(
            f"{kind:<14}{len(values):>5}{pct(values, 50):>9.3f}{pct(values, 95):>9.3f}"
            f"{statistics.fmean(values):>9.3f}"
        )
    return "\n".join(rows)
