"""Catalogue and user records of the contract (v1), as pydantic models."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class CatalogueItem(BaseModel):
    """One catalogue item: an audiobook or a podcast, with the text the models embed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    item_id: str = Field(min_length=1, max_length=128)
    item_type: Literal["audiobook", "podcast"]
    title: str
    description: str
    language: str = Field(description="ISO 639-1 code, e.g. 'en'.")
    genre: str = Field(
        description="BISAC-like code for audiobooks, a category for podcasts."
    )
    publisher: str = Field(
        description="Publisher or author (audiobooks), network (podcasts)."
    )
    release_date: datetime = Field(
        description="UTC; the catalogue timestamp of the item."
    )


class UserRecord(BaseModel):
    """One user: demographics and a music-taste vector (stands in for a music embedding)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    user_id: str = Field(min_length=1, max_length=128)
    age: int | None = Field(default=None, ge=0, le=130)
    country: str | None = None
    music_taste: list[float] = Field(default_factory=list)
