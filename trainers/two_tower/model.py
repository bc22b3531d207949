"""The user and item towers: separate Keras models, Dense -> ReLU -> LayerNorm, unit outputs.

Each tower: categorical inputs embedded, everything concatenated, then Dense 512 -> ReLU
-> LayerNorm -> Dense 256 -> ReLU -> LayerNorm -> Dense 128 (linear) -> L2 normalise.
Layer names (dense{k}, ln{k}, *_embedding) are what the numpy runtime reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from colisten.user_encoder import INPUT_ORDER, LN_EPS, UserFeatureSpec


@dataclass(frozen=True)
class ItemSpec:
    """Item tower inputs: vocabularies (index 0 = OOV) and dense widths."""

    languages: tuple[str, ...]
    genres: tuple[str, ...]
    text_dim: int
    hgnn_dim: int
    """0: no HGNN input (plain 2T)."""


def _mlp(x: keras.KerasTensor, hidden: tuple[int, ...]) -> keras.KerasTensor:
    for k, width in enumerate(hidden):
        x = keras.layers.Dense(width, name=f"dense{k}")(x)
        if k < len(hidden) - 1:
            x = keras.layers.ReLU(name=f"relu{k}")(x)
            x = keras.layers.LayerNormalization(epsilon=LN_EPS, name=f"ln{k}")(x)
    return keras.layers.UnitNormalization(axis=-1, name="l2")(x)


def user_tower(spec: UserFeatureSpec, hidden: tuple[int, ...]) -> keras.Model:
    """The user tower over build_user_inputs' arrays."""
    widths = {
        "age": 2,
        "music_taste": spec.music_dim,
        "counts": len(spec.count_names),
        "z_a": spec.item_dim,
        "z_p": spec.item_dim,
    }
    inputs = {k: keras.Input((w,), name=k) for k, w in widths.items()}
    inputs["country"] = keras.Input((), dtype="int32", name="country")
    emb = keras.layers.Embedding(
        len(spec.countries) + 1, spec.country_dim, name="country_embedding"
    )(inputs["country"])
    parts = [emb if k == "country" else inputs[k] for k in INPUT_ORDER]
    x = keras.layers.Concatenate(name="concat")(parts)
    return keras.Model(inputs, _mlp(x, hidden), name="user_tower")


def item_tower(spec: ItemSpec, hidden: tuple[int, ...]) -> keras.Model:
    """The item tower: language, genre (embedded), text embedding, HGNN embedding."""
    inputs = {
        "language": keras.Input((), dtype="int32", name="language"),
        "genre": keras.Input((), dtype="int32", name="genre"),
        "text": keras.Input((spec.text_dim,), name="text"),
    }
    lang = keras.layers.Embedding(len(spec.languages) + 1, 8, name="language_embedding")
    genre = keras.layers.Embedding(len(spec.genres) + 1, 16, name="genre_embedding")
    parts = [lang(inputs["language"]), genre(inputs["genre"]), inputs["text"]]
    if spec.hgnn_dim:
        inputs["hgnn"] = keras.Input((spec.hgnn_dim,), name="hgnn")
        parts.append(inputs["hgnn"])
    x = keras.layers.Concatenate(name="concat")(parts)
    return keras.Model(inputs, _mlp(x, hidden), name="item_tower")


def tower_weights(model: keras.Model) -> dict[str, np.ndarray]:
    """The weights the numpy runtime needs, by name (embeddings, dense{k}, ln{k})."""
    out: dict[str, np.ndarray] = {}
    for layer in model.layers:
        w = layer.get_weights()
        if isinstance(layer, keras.layers.Embedding):
            out[layer.name] = w[0]
        elif isinstance(layer, keras.layers.Dense):
            out[f"{layer.name}/kernel"], out[f"{layer.name}/bias"] = w
        elif isinstance(layer, keras.layers.LayerNormalization):
            out[f"{layer.name}/gamma"], out[f"{layer.name}/beta"] = w
    return {k: np.asarray(v, np.float32) for k, v in out.items()}
