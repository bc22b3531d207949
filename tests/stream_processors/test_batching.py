"""When a batch keeps collecting: only while records already wait past the buffered ones."""

from __future__ import annotations

from stream_processors.batching import behind, safe_highwater


def test_caught_up_partitions_are_not_behind() -> None:
    ends = {"t/0": 11, "t/1": 5}
    assert not behind({"t/0": 10, "t/1": 4}, ends.get)  # newest buffered = end - 1
    assert not behind({}, ends.get)


def test_one_partition_with_records_waiting_is_behind() -> None:
    ends = {"t/0": 11, "t/1": 900}
    assert behind({"t/0": 10, "t/1": 4}, ends.get)
    assert not behind({"t/0": 10, "t/1": 4}, ends.get, slack=1000)


def test_an_unknown_high_watermark_counts_as_caught_up() -> None:
    assert not behind({"t/0": 3}, {}.get)


def test_safe_highwater_hides_a_partition_the_consumer_lost() -> None:
    class Consumer:
        def highwater(self, tp: str) -> int:
            if tp == "gone":
                raise AssertionError("partition not assigned")  # aiokafka's complaint
            return 42

    highwater = safe_highwater(Consumer())
    assert highwater("t/0") == 42 and highwater("gone") is None
