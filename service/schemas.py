"""Request models: the pydantic models that validate every request body."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from headline_dedup.normalize import MAX_HEADLINE_CHARS


class HeadlineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(None, min_length=1, max_length=200, description="client id (idempotency key)")
    text: str = Field(min_length=1, max_length=MAX_HEADLINE_CHARS)
    source: str | None = Field(None, max_length=200)
    url: str | None = Field(None, max_length=2000)
    lang: Literal["fr", "en"] = "fr"
    published_at: str | None = Field(None, max_length=64)
    body: str | None = Field(None, max_length=100_000)

    @field_validator("text")
    @classmethod
    def not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("text is blank")
        if "\x00" in v:
            raise ValueError("text contains a NUL character")
        return v


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    headlines: list[HeadlineIn] = Field(min_length=1)
