"""How knowledge bases are named, in one place: a user's plans (``plans-<digest>``), a
temporary plan scope of one command or page run (``plan-<host tag>-<pid>-<random>``), and the
shared ones (anything else). Backups skip temporary scopes; listings hide private ones."""

from __future__ import annotations

import hashlib

PLANS_PREFIX = "plans-"
TEMP_PLAN_PREFIX = "plan-"


def plans_kb_name(owner: str) -> str:
    """The knowledge base that holds ``owner``'s plans (a digest: names may be Chinese)."""
    return PLANS_PREFIX + hashlib.sha256(owner.encode("utf-8")).hexdigest()[:16]


def is_temporary_plan_kb(name: str) -> bool:
    """A plan indexed for one command or review, deleted when it ends."""
    return name.startswith(TEMP_PLAN_PREFIX)


def is_private_kb(name: str) -> bool:
    """A user's plans or a temporary plan scope: never listed as a shared knowledge base."""
    return name.startswith(PLANS_PREFIX) or is_temporary_plan_kb(name)
