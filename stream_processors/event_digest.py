"""Event ids as 64-bit digests: how the stages remember ids they must not count twice.

Stage 1 keeps a user's 64 newest event ids (a client's duplicate send changes nothing),
stage 2 the ids of each (item, user)'s streams in the popularity window (a stream counts
once). As UUID strings in the changelog they were most of its bytes: 2.5 KB of a user's
~3.2 KB record. A blake2b digest is 8 bytes, packed with its neighbours into one base64
string. Two distinct ids that one set holds share a digest with probability
~(set size) / 2**64 per event: at 64 ids, one event dropped as a duplicate in ~10**17.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable


def id_digest(event_id: str) -> int:
    """The 64-bit digest of an event id."""
    return int.from_bytes(hashlib.blake2b(event_id.encode(), digest_size=8).digest())


def pack(digests: Iterable[int]) -> str:
    """Digests as one base64 string (8 bytes each, in order)."""
    return base64.b64encode(b"".join(d.to_bytes(8) for d in digests)).decode()


def unpack(packed: str) -> list[int]:
    """pack's digests, in order."""
    b = base64.b64decode(packed)
    return [int.from_bytes(b[i : i + 8]) for i in range(0, len(b), 8)]
