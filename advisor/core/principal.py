"""Who is asking: a user, their role and (for a founder) the one client they belong to.

The service decides what a principal may see with these rules; the final gate (`visible`) applies
them again to every passage just before it reaches an answer, a prompt, a memo, a download or a
screen, so a bug upstream cannot leak another client's document.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from advisor.core.errors import AccessError
from advisor.core.settings import PLAYBOOK_SCOPE

Role = Literal["cto", "founder"]
log = logging.getLogger("advisor.scope")


class Principal(BaseModel):
    """The caller of every service method."""

    model_config = ConfigDict(frozen=True)

    user: str
    role: Role = "cto"
    client: str | None = None  # a founder's own client; None for a CTO

    @classmethod
    def local(cls) -> Principal:
        """Single-user mode (no accounts, loopback only): the CTO on their own machine."""
        return cls(user="local", role="cto")

    @property
    def is_cto(self) -> bool:
        return self.role == "cto"

    def resolve_client(self, client: str | None) -> str | None:
        """The client a request acts on: a founder always acts on their own, whatever is asked."""
        if self.role == "founder":
            if client and client.casefold() != (self.client or "").casefold():
                raise AccessError(
                    f"{self.user} may only use client {self.client!r}: ask a CTO for access"
                )
            return self.client
        return client

    def may_read_scope(self, scope: str) -> bool:
        if self.is_cto:
            return True
        return scope == PLAYBOOK_SCOPE or (scope or "").casefold() == (self.client or "").casefold()

    def may_write_scope(self, scope: str) -> bool:
        if self.is_cto:
            return True
        return scope != PLAYBOOK_SCOPE and scope.casefold() == (self.client or "").casefold()


def scopes_for(client: str | None) -> list[str]:
    """What a question may see: the playbooks, plus the one client it is asked for."""
    return [PLAYBOOK_SCOPE] if not client else [PLAYBOOK_SCOPE, client]


T = TypeVar("T")


def visible(items: Iterable[T], scopes: Sequence[str], where: str) -> list[T]:
    """The final gate: drop (and log) anything whose `.scope` is not in `scopes`."""
    allowed = set(scopes)
    kept, dropped = [], []
    for item in items:
        (kept if getattr(item, "scope", None) in allowed else dropped).append(item)
    if dropped:
        log.error(
            "scope gate at %s dropped %d passage(s) from scopes %s (allowed: %s)",
            where,
            len(dropped),
            sorted({str(getattr(d, "scope", None)) for d in dropped}),
            sorted(allowed),
        )
    return kept
