"""What every page shares: the service (built once per process, lazily), the session's
choices (backend, top-k), and small rendering helpers."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import streamlit as st

from advisor.errors import (
    AccountError,
    AdvisorError,
    BackupError,
    ConfigError,
    InputFileError,
    KnowledgeBaseError,
    LLMError,
    NotFoundError,
)
from advisor.reports import cite_label
from advisor.service import AdvisorService
from ingest.pipeline import FileOutcome

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
BACKENDS = ("local", "openai", "extractive")
BACKEND_LABELS = {
    "local": "本地模型 Local model",
    "openai": "OpenAI 兼容服务 OpenAI-compatible",
    "extractive": "摘录模式（无模型）Extractive (no LLM)",
}


@st.cache_resource(show_spinner=False)
def get_service() -> AdvisorService:
    """One service per process. Building it is cheap: the embedder, the store and the model
    are loaded on first use, so the first page paints at once."""
    return AdvisorService()


#: a document's level (ingest/metadata.py LEVELS) as the pages show it
LEVEL_LABELS = {
    "national": "国家 national",
    "provincial": "省级 provincial",
    "municipal": "市级 municipal",
    "college": "学校 college",
    "other": "其他 other",
}


def session_backend(service: AdvisorService) -> str:
    return str(st.session_state.get("backend", service.settings.llm))


def session_top_k(service: AdvisorService) -> int:
    return int(st.session_state.get("top_k", service.settings.top_k))


def session_advisor(service: AdvisorService, kbs: list[str] | None = None) -> Any:
    """The advisor with this session's backend and top-k, loading what it needs with a
    visible status the first time (the local model takes a few seconds)."""
    backend = session_backend(service)
    if not service.model_loaded(backend) and backend != "extractive":
        with st.status("正在加载模型 Loading the model…", expanded=False) as status:
            advisor = service.advisor(kbs, backend=backend, top_k=session_top_k(service))
            advisor.warm_up()  # both languages' system prompts into the prompt cache
            status.update(label="模型已就绪 Model ready", state="complete")
            return advisor
    if service.embeddings_loaded:
        return service.advisor(kbs, backend=backend, top_k=session_top_k(service))
    with st.spinner("正在准备检索 Preparing search (index and embedding model)…"):
        advisor = service.advisor(kbs, backend=backend, top_k=session_top_k(service))
        advisor.warm_up()  # the first question then waits for neither
    return advisor


_ERROR_LABELS: list[tuple[type[AdvisorError], str]] = [
    (LLMError, "语言模型未能回答 The language model could not answer"),
    (KnowledgeBaseError, "知识库操作失败 Knowledge base"),
    (InputFileError, "文件无法使用 File cannot be used"),
    (NotFoundError, "未找到 Not found"),
    (AccountError, "账户 Account"),
    (BackupError, "备份 Backup"),
    (ConfigError, "设置无效 Invalid setting"),
]


def show_error(exc: AdvisorError) -> None:
    """Every error of the product's tree (advisor/errors.py) shown the same way: what kind it
    is, in both UI languages, and its message. Pages call this; app.py catches what a page
    did not."""
    label = next((text for kind, text in _ERROR_LABELS if isinstance(exc, kind)), "出错 Error")
    st.error(f"{label}: {exc}")


def render_sources(record: dict[str, Any]) -> None:
    """Numbered sources under an answer: document, page, section, the quote in an expander."""
    contexts = {c["rank"]: c for c in record.get("contexts", [])}
    for c in record.get("citations", []):
        # the last two levels of the section path say enough ("第四章 … > 第四十条")
        section = " > ".join(contexts.get(c["n"], {}).get("section", "").split(" > ")[-2:])
        # a label already names the article ("《…》（2022年修订）第二十四条")
        label = cite_label(c) + (f" · {section}" if section and not c.get("label") else "")
        with st.expander(label):
            st.markdown(f"> {c['quote']}")


class StreamlitIngestProgress:
    """Per-file progress for ``AdvisorService.ingest``: a bar over files, the current stage,
    and one line per finished file with its outcome."""

    ICONS: ClassVar[dict[str, str]] = {
        "indexed": "✅",
        "replaced": "🔁",
        "unchanged": "⏸️",
        "failed": "❌",
    }
    #: the pipeline's stages as the page names them (OCR and embedding count pages / chunks)
    STAGES: ClassVar[dict[str, str]] = {
        "parse": "解析 parse",
        "ocr": "OCR 识别页 pages",
        "chunk": "分块 chunk",
        "embed": "向量化 embed",
        "write": "写入 write",
    }

    def __init__(self) -> None:
        self.bar = st.progress(0.0, text="准备中 Preparing…")
        self.stage_line = st.empty()
        self._total = 1
        self._finished = 0
        self._stage_total: int | None = None
        self._stage_done = 0
        self._stage = ""
        self._name = ""

    def file_started(self, path: Path, index: int, total: int) -> None:
        self._total, self._name = max(total, 1), path.name
        self.bar.progress(self._finished / self._total, text=f"{index + 1}/{total} · {path.name}")

    def stage(self, name: str, total: int | None = None, *, files: int = 1) -> None:
        # small files are embedded and written in groups: the line then names the group
        if files > 1:
            self._name = f"{files} 个文件 files"
        self._stage_total, self._stage_done = total, 0
        self._stage = self.STAGES.get(name, name)
        self.stage_line.caption(f"{self._name}: {self._stage}" + (f" 0/{total}" if total else ""))

    def advance(self, n: int = 1) -> None:
        self._stage_done += n
        if self._stage_total:
            self.stage_line.caption(
                f"{self._name}: {self._stage} {self._stage_done}/{self._stage_total}"
            )

    def file_finished(self, outcome: FileOutcome) -> None:
        self._finished += 1
        self.bar.progress(
            min(self._finished / self._total, 1.0),
            text=f"{self._finished}/{self._total} · {outcome.source}",
        )

    def done(self) -> None:
        self.bar.progress(1.0, text="完成 Done")
        self.stage_line.empty()


def save_uploads(uploads: list[Any], folder: Path) -> list[Path]:
    """Write uploaded files into ``folder`` under their base names (never a path the browser
    sent)."""
    paths = []
    for upload in uploads:
        path = folder / Path(upload.name).name
        path.write_bytes(upload.getbuffer())
        paths.append(path)
    return paths


def too_many_files(uploads: list[Any], limit: int) -> bool:
    """Says so when more files were chosen than ADVISOR_MAX_UPLOAD_FILES allows."""
    if len(uploads) <= limit:
        return False
    st.error(
        f"一次最多上传 {limit} 个文件（ADVISOR_MAX_UPLOAD_FILES），本次选择了 {len(uploads)} 个。"
        f"At most {limit} files per upload; {len(uploads)} were chosen."
    )
    return True


def outcome_rows(outcomes: list[FileOutcome]) -> list[dict[str, Any]]:
    return [
        {
            "": StreamlitIngestProgress.ICONS.get(o.status, ""),
            "file": o.source,
            "outcome": o.status,
            "reason": o.reason,
            "detail": o.message,
            "pages": o.pages,
            "chunks": o.chunks,
            "OCR": ", ".join(map(str, o.ocr_pages)),
            "left out": ", ".join(o.skipped_pages),
        }
        for o in outcomes
    ]


# ---------------------------------------------------------------------------- accounts

LOCAL_USER = "local"


def require_user(service: AdvisorService) -> Any:
    """The signed-in user, or a login form and a stop. With ADVISOR_AUTH=none (single-user
    local use) everyone is the local administrator, and every page says so."""
    from advisor.accounts import User

    if service.settings.auth == "none":
        st.sidebar.warning(
            "单用户本地模式：未启用账户，所有访问者共享数据。\n\n"
            "Single-user local mode: no accounts; everyone who opens this app shares its data."
        )
        local = User(LOCAL_USER, "admin")
        st.session_state["user"] = local
        return local
    accounts = service.accounts
    user = accounts.user_for(st.session_state.get("token"))
    if user is not None:
        st.session_state["user"] = user
        with st.sidebar:
            st.caption(f"👤 {user.name} · {user.role}")
            if st.button("退出登录 Sign out", key="sign_out"):
                accounts.logout(st.session_state.pop("token"))
                st.session_state.pop("user", None)
                st.rerun()
        return user
    st.session_state.pop("user", None)
    st.title("产教融合顾问 · Collaboration Advisor")
    if not accounts.has_admin():
        st.error(
            "还没有管理员账户。请在服务器上运行 `python -m advisor user add 用户名 --admin` "
            "创建第一个管理员；单人本地使用可设置 `ADVISOR_AUTH=none`。\n\n"
            "No administrator yet: create the first one on the server with "
            "`python -m advisor user add NAME --admin`, or set `ADVISOR_AUTH=none` for "
            "single-user local use."
        )
        st.stop()
    with st.form("login"):
        st.subheader("登录 Sign in")
        name = st.text_input("用户名 User name", key="login_name")
        password = st.text_input("密码 Password", type="password", key="login_password")
        submitted = st.form_submit_button("登录 Sign in", type="primary")
    if submitted:
        try:
            st.session_state["token"] = accounts.login(
                name.strip(), password, address=client_address()
            )
        except AccountError as exc:
            st.error(f"登录失败 Sign-in failed: {exc}")
        else:
            st.rerun()
    st.stop()


def client_address() -> str | None:
    """The browser's network address as Streamlit sees it (behind a reverse proxy: the
    proxy's), for slowing down repeated failed sign-ins; None when unknown (tests)."""
    try:
        address = st.context.ip_address
    except Exception:  # no browser connection (bare mode)
        return None
    return address if isinstance(address, str) and address else None  # AppTest: a mock


def user_name() -> str:
    user = st.session_state.get("user")
    return user.name if user is not None else LOCAL_USER


def is_admin() -> bool:
    user = st.session_state.get("user")
    return bool(user is not None and user.is_admin)
