"""glibc malloc settings for a long-running process: fewer arenas, free pages given back.

A worker's threads (Faust's executor running the sink's flushes, aiokafka's consumer
thread, RocksDB's flush and compaction threads) each get a glibc malloc arena of their
own (up to 8 per core), and memory freed inside an arena stays in the process's RSS
until the arena's top is free. Over a long replay that is hundreds of MiB of RSS that
no live object uses (bench/RESULTS.md, session 20). `limit_arenas` caps the arenas
(glibc's `M_ARENA_MAX`, what the `MALLOC_ARENA_MAX` variable sets at start) and `trim`
returns every arena's free pages to the kernel (`malloc_trim(0)`). On a C library that
is not glibc both do nothing and say so.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys
from functools import cache
from typing import Any

log = logging.getLogger(__name__)
M_ARENA_MAX = -8
"""mallopt parameter number of glibc's arena cap (malloc.h)."""


@cache
def _glibc() -> Any:
    """The process's glibc, or None where malloc is not glibc's."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        libc.gnu_get_libc_version.restype = ctypes.c_char_p
        libc.gnu_get_libc_version()
    except (OSError, AttributeError, TypeError):
        log.info("malloc tuning skipped: the C library is not glibc")
        return None
    return libc


def limit_arenas(arenas: int) -> bool:
    """Cap glibc's malloc arenas at `arenas` (0: leave glibc's default); True if applied.

    Arenas already created stay; call it before the process starts its threads.
    """
    libc = _glibc()
    if not arenas or libc is None:
        return False
    return bool(libc.mallopt(M_ARENA_MAX, arenas))


def trim() -> bool:
    """Give every arena's free pages back to the kernel; True if memory was released."""
    libc = _glibc()
    return bool(libc.malloc_trim(0)) if libc is not None else False


def arrow_on_system_malloc() -> bool:
    """Route Arrow's buffers (the sink's offline parquet parts) through the C library's
    malloc, so the arena cap and `trim` cover them; True if all of Arrow follows.

    pyarrow's default pool (mimalloc) keeps freed pages of its own: ~65–95 MiB of a
    worker's RSS on `large` (bench/RESULTS.md, session 21). Arrow's C++ code fixes its
    default pool on first use, from `ARROW_DEFAULT_MEMORY_POOL` (set here unless the
    environment already says): call this before pyarrow is imported. Afterwards only
    pyarrow's own calls can still be moved (`set_memory_pool`), and it returns False.
    """
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    if "pyarrow" not in sys.modules:
        return True
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())
    return False
