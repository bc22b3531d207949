"""user_profile rows from a world's users.parquet, stamped at the world's start."""

from __future__ import annotations

import numpy as np
import pandas as pd

from colisten import names


def profile_rows(users: pd.DataFrame, start_ms: int) -> pd.DataFrame:
    """user_profile rows from users.parquet (missing age -1, missing country '')."""
    age = pd.to_numeric(users["age"], errors="coerce").fillna(-1).astype("int64")
    taste = [
        np.asarray(v if v is not None else [], np.float32) for v in users["music_taste"]
    ]
    return pd.DataFrame(
        {
            names.USER_ID: users[names.USER_ID].astype(str),
            "age": age,
            "country": users["country"].fillna("").astype(str),
            "music_taste": taste,
            names.EVENT_TIMESTAMP: pd.Timestamp(start_ms, unit="ms", tz="UTC"),
        }
    )
