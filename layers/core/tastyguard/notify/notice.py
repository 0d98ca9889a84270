"""The message model every notification is built from (one per run or event, with severity)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from tastyguard.config.models import Severity

__all__ = ['Notice', 'NoticeSection', 'Severity']


class NoticeSection(BaseModel):
    """A titled block of lines (e.g. "What the broker did", "Needs you")."""

    model_config = ConfigDict(frozen=True)

    title: str
    lines: list[str] = Field(default_factory=list)


class Notice(BaseModel):
    """One notification. Says what the broker actually did, never only what was intended.

    Carries no secrets and no raw broker payloads; ``mode`` and ``environment`` are always present so a
    shadow-mode or paper message is never mistaken for a live one.
    """

    model_config = ConfigDict(frozen=True)

    kind: str
    severity: Severity
    title: str
    environment: str
    mode: str
    account: str | None = None
    summary: str = ''
    sections: list[NoticeSection] = Field(default_factory=list)
    run_id: str | None = None
    created_at: datetime
    dedupe_key: str | None = None
