"""Results shared by every session of a server (pretrained models' recordings), bounded in bytes and in time.

``st.cache_resource`` bounds a cache by its number of entries only, and one entry's size depends on what a user
typed: MiniLM's attention on 512 tokens keeps 75 MB, a 30-layer model's 280 MB. Here each cache keeps at most
``max_mb`` of results (measured once per entry, as the session memo does), drops entries unused for ``ttl_s``,
and computes a result once when several sessions ask for it at the same moment. A result larger than the whole
bound is returned but not kept. Results are shared: callers must not modify them.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from explorer.ui.runtime import LARGE_RESULT_BYTES, release_freed_memory
from explorer.ui.state import size_in_bytes

T = TypeVar("T")


@dataclass
class _Entry:
    value: Any
    nbytes: int
    used_at: float


@dataclass
class SharedCache:
    """An LRU of results by key, at most ``max_bytes`` in all, each dropped ``ttl_s`` after its last use."""

    name: str
    max_bytes: int
    ttl_s: float
    _entries: OrderedDict[Hashable, _Entry] = field(default_factory=OrderedDict)
    _computing: dict[Hashable, threading.Lock] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The result for ``key``, computed by ``compute`` (outside the cache's lock) when it is not kept."""
        while True:
            with self._lock:
                self._expire(time.monotonic())
                if (entry := self._entries.get(key)) is not None:
                    entry.used_at = time.monotonic()
                    self._entries.move_to_end(key)
                    return entry.value
                busy = self._computing.get(key)
                if busy is None:  # nobody computes it: this caller does
                    busy = self._computing[key] = threading.Lock()
                    busy.acquire()
                    break
            with busy:  # another session computes the same key: wait for it, then look again
                pass
        try:
            value = compute()
            if self._store(key, value) >= LARGE_RESULT_BYTES:
                release_freed_memory()
            return value
        finally:
            with self._lock:
                self._computing.pop(key, None)
            busy.release()

    def _store(self, key: Hashable, value: Any) -> int:
        """Keep ``value`` (the oldest entries make room); returns its size."""
        nbytes = size_in_bytes(value)
        if nbytes > self.max_bytes:
            return nbytes
        with self._lock:
            self._entries[key] = _Entry(value, nbytes, time.monotonic())
            while self.nbytes() > self.max_bytes:
                self._entries.popitem(last=False)
        return nbytes

    def _expire(self, now: float) -> None:
        for key in [k for k, e in self._entries.items() if now - e.used_at > self.ttl_s]:
            del self._entries[key]

    def nbytes(self) -> int:
        return sum(e.nbytes for e in self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)


CACHES: dict[str, SharedCache] = {}  # every shared cache of this process, by the function's qualified name


def shared(max_mb: float, ttl_s: float = 1800, key: Callable[..., Hashable] | None = None,
           ) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Decorate a function: its results are kept in one :class:`SharedCache`, by its arguments (hashable) or by
    ``key(*args)`` (e.g. a digest instead of an upload's bytes, which the cache would otherwise keep as its key)."""
    def decorate(fn: Callable[..., T]) -> Callable[..., T]:
        cache = CACHES.setdefault(fn.__qualname__, SharedCache(fn.__qualname__, int(max_mb * 2**20), ttl_s))

        @functools.wraps(fn)
        def cached(*args: Any) -> T:
            return cache.get(args if key is None else key(*args), lambda: fn(*args))

        return cached
    return decorate
