"""Batch-only views written by trainers and loaders: item content, HGNN embeddings, profiles."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from feast import FeatureView

from colisten import names
from feature_repo.entities import item, user
from feature_repo.schema import Column, arrow_schema, feast_fields
from feature_repo.sources import batch_source

ITEM_CONTENT = names.ITEM_CONTENT_VIEW
ITEM_HGNN_EMBEDDING = names.ITEM_HGNN_EMBEDDING_VIEW
USER_PROFILE = names.USER_PROFILE_VIEW

ITEM_CONTENT_COLUMNS = [
    Column("item_type", "string", "audiobook or podcast."),
    Column(
        "text_embedding",
        "float32[]",
        "Sentence embedding of title + description (unit norm).",
    ),
    Column("text_model", "string", "The sentence model that made the embedding."),
    Column("language", "string", "ISO 639-1 language."),
    Column(
        "genre", "string", "BISAC-like genre code (audiobooks) or category (podcasts)."
    ),
]
ITEM_HGNN_COLUMNS = [
    Column("item_type", "string", "audiobook or podcast."),
    Column("hgnn_embedding", "float32[]", "HGNN output z_c (unit norm)."),
    Column("hgnn_version", "string", "Model version that produced it."),
    Column("hgnn_cutoff_ms", "int64", "Training cut-off (UTC ms) of that model."),
]
USER_PROFILE_COLUMNS = [
    Column("age", "int64", "Age in years (missing: -1)."),
    Column("country", "string", "Country code (missing: empty)."),
    Column(
        "music_taste",
        "float32[]",
        "Music-taste vector (stand-in for a music embedding).",
    ),
]

ARROW_SCHEMAS = {
    ITEM_CONTENT: arrow_schema(names.ITEM_ID, ITEM_CONTENT_COLUMNS),
    ITEM_HGNN_EMBEDDING: arrow_schema(names.ITEM_ID, ITEM_HGNN_COLUMNS),
    USER_PROFILE: arrow_schema(names.USER_ID, USER_PROFILE_COLUMNS),
}


def build(data_dir: Path | None = None) -> list[FeatureView]:
    """The three batch views, reading parquet parts under data_dir."""
    never = timedelta(0)  # Feast: a ttl of 0 means the rows never expire
    return [
        FeatureView(
            name=ITEM_CONTENT,
            entities=[item],
            ttl=never,
            schema=feast_fields(ITEM_CONTENT_COLUMNS),
            source=batch_source(ITEM_CONTENT, data_dir),
            online=True,
            description="Item text embeddings, stamped with the catalogue (release) time.",
            tags={"stage": "trainer"},
        ),
        FeatureView(
            name=ITEM_HGNN_EMBEDDING,
            entities=[item],
            ttl=never,
            schema=feast_fields(ITEM_HGNN_COLUMNS),
            source=batch_source(ITEM_HGNN_EMBEDDING, data_dir),
            online=True,
            description="HGNN item embeddings, stamped with the model's training cut-off.",
            tags={"stage": "trainer"},
        ),
        FeatureView(
            name=USER_PROFILE,
            entities=[user],
            ttl=never,
            schema=feast_fields(USER_PROFILE_COLUMNS),
            source=batch_source(USER_PROFILE, data_dir),
            online=True,
            description="User demographics and music taste.",
            tags={"stage": "loader"},
        ),
    ]


item_content_fv, item_hgnn_embedding_fv, user_profile_fv = build()
