"""Hugging Face datasets (online only): imdb, sst2 and tiny_shakespeare, read from their parquet files.

Downloaded once into ``cache_dir()/hub``. Offline, or with ``HF_HUB_OFFLINE`` set, a dataset that is not cached
raises :class:`HubUnavailable` within a few seconds, never a hang.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from explorer.data import downloads
from explorer.data.dataset import TaskData
from explorer.data.downloads import DownloadError, cache_dir
from explorer.data.text_tasks import classification_task, lm_task_from_text

HUB_CHECK_TIMEOUT_S = 3.0


class HubUnavailable(DownloadError):
    """The Hugging Face hub cannot be reached (offline, firewall): raised at once, before any hub call."""


@dataclass(frozen=True)
class HFDatasetSpec:
    """A dataset on the Hugging Face hub, read from its parquet files (rows are concatenated in file order)."""

    name: str
    title: str
    kind: str  # lm | classification
    description: str
    repo_id: str
    files: tuple[str, ...]
    text_column: str
    label_column: str | None = None
    class_names: tuple[str, ...] = ()
    download_mb: float = 0.0
    revision: str | None = None


HF_DATASETS: dict[str, HFDatasetSpec] = {
    "imdb": HFDatasetSpec(
        name="imdb", title="IMDb reviews", kind="classification",
        description="25,000 IMDb movie reviews (the dataset's train split), 50% positive (Maas et al. 2011).",
        repo_id="stanfordnlp/imdb", files=("plain_text/train-00000-of-00001.parquet",), text_column="text",
        label_column="label", class_names=("negative", "positive"), download_mb=21.0),
    "sst2": HFDatasetSpec(
        name="sst2", title="SST-2 sentences", kind="classification",
        description="67,349 movie-review phrases and sentences (the train split of GLUE SST-2), labelled "
                    "negative / positive (Socher et al. 2013).",
        repo_id="stanfordnlp/sst2", files=("data/train-00000-of-00001.parquet",), text_column="sentence",
        label_column="label", class_names=("negative", "positive"), download_mb=3.1),
    "tiny_shakespeare": HFDatasetSpec(
        name="tiny_shakespeare", title="Tiny Shakespeare", kind="lm",
        description="Karpathy's char-rnn corpus: 40,000 lines from Shakespeare's plays (~1.1 million characters).",
        repo_id="karpathy/tiny_shakespeare",
        files=("data/train-00000-of-00001.parquet", "data/validation-00000-of-00001.parquet",
               "data/test-00000-of-00001.parquet"),
        text_column="text", download_mb=0.7,
        # the parquet conversion (hub PR #2); main still holds only a loading script
        revision="fe12e06d82fe3af4291b90426557387520d81385"),
}


def hub_endpoint() -> tuple[str, int]:
    """Host and port of the hub (``HF_ENDPOINT`` when set, else huggingface.co:443)."""
    url = urlsplit(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    return url.hostname or "huggingface.co", url.port or (80 if url.scheme == "http" else 443)


def hub_reachable(timeout: float = HUB_CHECK_TIMEOUT_S) -> bool:
    """Can we open a TCP connection to the hub within ``timeout`` seconds (DNS included)?"""
    host, port = hub_endpoint()
    return downloads.can_connect(host, port, timeout)


def _hub_file(spec: HFDatasetSpec, filename: str) -> Path:
    """One dataset file from the local hub cache, else downloaded; never hangs when offline."""
    import huggingface_hub
    import huggingface_hub.constants
    from huggingface_hub.errors import HTTPError, LocalEntryNotFoundError

    kwargs: dict[str, Any] = {"repo_type": "dataset", "revision": spec.revision, "cache_dir": cache_dir() / "hub"}
    try:
        return Path(huggingface_hub.hf_hub_download(spec.repo_id, filename, local_files_only=True, **kwargs))
    except LocalEntryNotFoundError:
        pass  # not downloaded yet
    if huggingface_hub.constants.HF_HUB_OFFLINE:
        raise HubUnavailable(f"Hugging Face downloads are switched off on this machine (HF_HUB_OFFLINE is set), so "
                             f"{spec.title} (~{spec.download_mb} MB) cannot be downloaded. Unset HF_HUB_OFFLINE, or "
                             f"use the packaged corpora (Shakespeare, movie reviews), which work offline.")
    host, port = hub_endpoint()
    if not hub_reachable():
        raise HubUnavailable(f"The Hugging Face hub ({host}:{port}) cannot be reached, so {spec.title} "
                             f"(~{spec.download_mb} MB) cannot be downloaded. Connect to the internet, or use the "
                             f"packaged corpora (Shakespeare, movie reviews), which work offline once fetched.")
    try:
        return Path(huggingface_hub.hf_hub_download(spec.repo_id, filename, **kwargs))
    except (OSError, ValueError, HTTPError) as err:
        raise DownloadError(f"Could not download {filename} of {spec.repo_id} from the Hugging Face hub: {err}. "
                            f"Try again later, or use the packaged corpora.") from err


def load_hf_dataset(name: str, *, max_vocab: int = 10_000, max_len: int = 200, val_fraction: float = 0.1,
                    seed: int = 0, mode: str | None = None, max_examples: int | None = None,
                    max_chars: int | None = None) -> TaskData:
    """A Hugging Face dataset as a :class:`TaskData` (downloaded once into ``cache_dir()/hub``).

    Raises :class:`HubUnavailable` within ~3 s when the hub cannot be reached and the files are not cached.
    ``max_examples`` keeps a seeded random sample of a classification dataset; ``max_chars`` cuts an LM text.
    """
    import pandas as pd

    if name not in HF_DATASETS:
        raise ValueError(f"Unknown Hugging Face dataset {name!r}; choose one of {', '.join(HF_DATASETS)}.")
    spec = HF_DATASETS[name]
    columns = [spec.text_column] + ([spec.label_column] if spec.label_column else [])
    paths = [_hub_file(spec, filename) for filename in spec.files]
    try:
        frame = pd.concat([pd.read_parquet(path, columns=columns) for path in paths], ignore_index=True)
    except (OSError, ValueError, KeyError) as err:
        raise DownloadError(f"The downloaded files of {spec.title} cannot be read ({err}). Delete "
                            f"{cache_dir() / 'hub'} and try again.") from err
    params: dict[str, Any] = {"hf_dataset": name, "repo_id": spec.repo_id, "revision": spec.revision}
    if spec.kind == "lm":
        text = "".join(str(t) for t in frame[spec.text_column])
        text = text[:max_chars] if max_chars is not None else text
        return lm_task_from_text(spec.title, text, mode=mode or "char", max_vocab=max_vocab,
                                 val_fraction=val_fraction, origin="huggingface",
                                 params={**params, "max_chars": max_chars}, description=spec.description)
    if max_examples is not None and max_examples < len(frame):
        frame = frame.sample(n=max_examples, random_state=seed)
    return classification_task(spec.title, [str(t) for t in frame[spec.text_column]],
                               [int(v) for v in frame[spec.label_column]], list(spec.class_names),
                               mode=mode or "word", max_vocab=max_vocab, max_len=max_len,
                               val_fraction=val_fraction, seed=seed, origin="huggingface",
                               params={**params, "max_examples": max_examples}, description=spec.description)
