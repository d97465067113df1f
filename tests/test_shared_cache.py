"""The caches every session shares are bounded in bytes and time, and compute a result once for simultaneous askers."""

from __future__ import annotations

import threading
import time

import pytest
import torch

from explorer.ui.shared_cache import SharedCache

MB = 2**20


def tensor_mb(mb: int) -> torch.Tensor:
    return torch.zeros(mb * MB // 4)  # float32


def test_oldest_results_go_first_once_the_bytes_are_reached() -> None:
    cache = SharedCache("test", max_bytes=10 * MB, ttl_s=60)
    for key in "abc":
        cache.get(key, lambda: tensor_mb(4))
    assert len(cache) == 2 and cache.nbytes() == 8 * MB  # 'a' made room for 'c'
    calls = []
    cache.get("b", lambda: calls.append("b") or tensor_mb(4))
    assert not calls, "b was kept"
    cache.get("a", lambda: calls.append("a") or tensor_mb(4))
    assert calls == ["a"], "a was dropped and is computed again"


def test_a_result_larger_than_the_bound_is_returned_but_not_kept() -> None:
    cache = SharedCache("test", max_bytes=10 * MB, ttl_s=60)
    cache.get("small", lambda: tensor_mb(2))
    big = cache.get("big", lambda: tensor_mb(20))
    assert big.numel() == 20 * MB // 4
    assert len(cache) == 1 and cache.nbytes() == 2 * MB, "the small one stays, the big one is not kept"


def test_results_unused_for_the_ttl_are_dropped() -> None:
    cache = SharedCache("test", max_bytes=10 * MB, ttl_s=0.05)
    cache.get("a", lambda: tensor_mb(1))
    time.sleep(0.1)
    calls = []
    cache.get("a", lambda: calls.append("a") or tensor_mb(1))
    assert calls == ["a"]


def test_sessions_asking_for_the_same_result_at_once_compute_it_once() -> None:
    cache = SharedCache("test", max_bytes=10 * MB, ttl_s=60)
    calls, results = [], []

    def slow() -> torch.Tensor:
        calls.append(1)
        time.sleep(0.2)
        return tensor_mb(1)

    threads = [threading.Thread(target=lambda: results.append(cache.get("same", slow))) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1 and len(results) == 5 and all(r is results[0] for r in results)


def test_a_failed_computation_is_not_kept_and_can_be_tried_again() -> None:
    cache = SharedCache("test", max_bytes=10 * MB, ttl_s=60)

    def broken() -> torch.Tensor:
        raise ValueError("no")

    with pytest.raises(ValueError):
        cache.get("k", broken)
    assert cache.get("k", lambda: tensor_mb(1)).numel() == MB // 4


def test_uploads_are_kept_by_bytes_and_read_once() -> None:
    from explorer.ui import loaders

    text = ("The students opened their notebooks and wrote down the gate equations. " * 400).encode()
    first = loaders.upload_task("notes.txt", text, "char", None, None, 200)
    assert loaders.upload_task("notes.txt", bytes(text), "char", None, None, 200) is first, "the same file: read once"
    assert loaders.upload_task("notes.txt", text, "word", None, None, 200) is not first
    assert loaders.UPLOADS.nbytes() <= loaders.UPLOADS.max_bytes == loaders.UPLOADS_MAX_MB * MB
    assert first.train.stream.numel() + first.val.stream.numel() == len(text)
