"""Group progress reads as nothing committed while a fresh broker's coordinator is not ready."""

from __future__ import annotations

from typing import Any

import pytest
from kafka.errors import CoordinatorNotAvailableError, GroupAuthorizationFailedError

from infra.topics import committed_offsets


class _Admin:
    def __init__(self, answer: Any) -> None:
        self.answer = answer

    def list_group_offsets(self, group: str) -> dict[str, Any]:
        if isinstance(self.answer, Exception):
            raise self.answer
        return {group: self.answer}


def test_a_coordinator_not_ready_yet_reads_as_nothing_committed() -> None:
    admin = _Admin(CoordinatorNotAvailableError("FindCoordinatorResponse error"))
    assert committed_offsets(admin, "g") == {}  # type: ignore[arg-type]
    assert committed_offsets(_Admin({"tp": 5}), "g") == {"tp": 5}  # type: ignore[arg-type]


def test_other_errors_still_raise() -> None:
    admin = _Admin(GroupAuthorizationFailedError("denied"))
    with pytest.raises(GroupAuthorizationFailedError):
        committed_offsets(admin, "g")  # type: ignore[arg-type]
