"""Eight concurrent sessions against one deployment (one AdvisorService, as every Streamlit
session of an app process shares): two administrators ingest into the shared knowledge base
while six members add their own plans, ask about them and about the shared knowledge base, keep
conversations and save results. No errors, no cross-talk, and the store is whole afterwards.
The real store and embedder; the chat model is a fake whose answer is the first sentence of the
first passage it was given (devkit/fakes.py), so a mixed-up prompt would show. The same
scenario, timed and with the bundled model, is bench/load.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from advisor.service import AdvisorService
from advisor.settings import Settings
from devkit.fakes import PassageEchoChat
from devkit.load_scenario import member_code, run_scenario, seed


def test_eight_sessions_ask_and_ingest_without_errors_or_crosstalk(embeddings, tmp_path) -> None:
    service = AdvisorService(Settings(data_dir=tmp_path / "data"), embeddings=embeddings)
    service.use_chat_model(PassageEchoChat(delay_s=0.05), "passage-echo")
    seed(service, tmp_path)

    result = run_scenario(service, sessions=8, admins=2, rounds=2, run_id="T")

    assert result.errors == []
    assert result.crosstalk == []
    kinds = {op.kind: 0 for op in result.ops}
    for op in result.ops:
        kinds[op.kind] += 1
    assert kinds == {
        "add_plan": 6,
        "ingest_shared": 4,
        "ask_shared": 16,
        "ask_plan": 12,
        "save_result": 8,
    }
    # each member's own plan answered their question (the fake echoes the top passage)
    for i in range(2, 8):
        [job] = service.workspace(f"member{i}").results()
        records = service.workspace(f"member{i}").result(job.id).result
        plan_answers = [r for r in records if str(r["id"]).startswith("p")]
        assert len(plan_answers) == 2
        assert all(member_code(i, "T") in r["answer"] for r in plan_answers)
    assert len(service.list_documents()) == 3 + 4


def test_a_crosstalk_would_be_seen(embeddings, tmp_path: Path) -> None:
    """The checks can fail: with every member's plan in one scope (as if sessions shared
    their plan choice), answers show other members' codes."""
    from advisor.workspace import Workspace

    service = AdvisorService(Settings(data_dir=tmp_path / "data"), embeddings=embeddings)
    service.use_chat_model(PassageEchoChat(), "passage-echo")
    seed(service, tmp_path)
    leaky_kb = "plans-everyone"
    original = Workspace.__init__

    def leaky_init(self: Workspace, owner: str, **parts: Any) -> None:
        original(self, owner, **parts)
        self.kb_name = leaky_kb

    Workspace.__init__ = leaky_init  # type: ignore[method-assign]
    try:
        result = run_scenario(service, sessions=4, admins=0, rounds=1, run_id="X")
    finally:
        Workspace.__init__ = original  # type: ignore[method-assign]
    assert result.crosstalk, "the scenario's checks missed plans shared between users"
