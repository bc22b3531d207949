"""malloc_tuning: glibc's arena cap applies, and a trim gives freed heap pages back."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from stream_processors import malloc_tuning

glibc = pytest.mark.skipif(
    malloc_tuning._glibc() is None,  # noqa: SLF001
    reason="malloc tuning applies to glibc only",
)


def test_zero_arenas_leaves_glibc_alone() -> None:
    assert malloc_tuning.limit_arenas(0) is False


@glibc
def test_a_trim_returns_the_pages_that_freed_objects_held() -> None:
    """100 KB objects come from the heap (under glibc's 128 KB mmap threshold); keeping
    every tenth holds the heap's top, so freeing the rest lowers RSS only on a trim."""
    script = textwrap.dedent(
        """
        import psutil
        from stream_processors import malloc_tuning

        rss = lambda: psutil.Process().memory_info().rss
        base = rss()
        blocks = [bytearray(100_000) for _ in range(3000)]
        for b in blocks:
            b[::4096] = b"x" * len(b[::4096])  # touch every page
        full = rss()
        kept = blocks[::10]
        del blocks
        freed = rss()
        trimmed = malloc_tuning.trim()
        print(base, full, freed, rss(), trimmed, len(kept))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    base, full, freed, after, trimmed, _ = out.split()
    mb = 2**20
    assert int(full) - int(base) > 250 * mb  # 300 MB allocated and touched
    assert int(freed) - int(after) > 200 * mb, out  # the trim gave back 90% of it
    assert trimmed == "True"


@glibc
def test_the_arena_cap_is_accepted() -> None:
    script = (
        "from stream_processors import malloc_tuning; "
        "print(malloc_tuning.limit_arenas(2))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "True"


@pytest.mark.parametrize("pyarrow_first", [False, True])
def test_arrow_buffers_go_through_the_system_malloc(pyarrow_first: bool) -> None:
    script = textwrap.dedent(
        f"""
        import os
        os.environ.pop("ARROW_DEFAULT_MEMORY_POOL", None)
        if {pyarrow_first}:
            import pyarrow
        from stream_processors import malloc_tuning

        everything = malloc_tuning.arrow_on_system_malloc()
        import pyarrow as pa

        table = pa.table({{"x": list(range(100_000))}})
        system = pa.system_memory_pool().bytes_allocated()
        print(everything, pa.default_memory_pool().backend_name, system)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    everything, backend, system = out.split()
    assert everything == str(not pyarrow_first) and backend == "system"
    assert int(system) >= 800_000  # the table's 100k int64s live in the system pool
