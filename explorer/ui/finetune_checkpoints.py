"""Saving and opening fine-tuning runs' checkpoints from the pages: bytes of any run, and a run from any checkpoint
of this app (the app's own models, or a fine-tuning run's trained parameters on their pretrained base)."""

from __future__ import annotations

from explorer.data.corpora import CORPORA, corpus_status
from explorer.data.dataset import TaskData
from explorer.training.checkpoints import checkpoint_from_trainer, from_bytes, header_format, to_bytes
from explorer.training.finetune_checkpoints import FINETUNE_FORMAT, finetune_from_bytes, finetune_to_bytes
from explorer.training.finetune_run import finetune_run_from_checkpoint
from explorer.training.run import Run, run_from_checkpoint
from explorer.ui import loaders
from explorer.ui.pretrained_loader import get_pretrained


def run_to_bytes(run: Run, name: str) -> bytes:
    """A safetensors checkpoint of the run (a fine-tuning run: its trained parameters and its base's name)."""
    if run.is_finetune:
        return finetune_to_bytes(run.trainer, name)
    return to_bytes(checkpoint_from_trainer(run.trainer, name, preset=run.preset))


def _corpus_data(summary: dict) -> TaskData | None:
    """The classification corpus a checkpoint was trained on, rebuilt the same way when it is on this machine."""
    params = summary.get("params") if isinstance(summary.get("params"), dict) else {}
    name = params.get("corpus")
    if summary.get("origin") != "corpus" or name not in CORPORA or not corpus_status(name).cached:
        return None
    mode, max_vocab, max_len = params.get("mode"), params.get("max_vocab"), params.get("max_len")
    if not (isinstance(mode, str) and isinstance(max_vocab, int) and isinstance(max_len, int)):
        return None
    if params.get("val_fraction", 0.1) != 0.1 or params.get("seed", 0) != 0:
        return None  # a split the page's loader does not make
    return loaders.corpus_task(name, mode, max_vocab, max_len, None)


def run_from_bytes(blob: bytes) -> Run:
    """Parse, validate and build a run from any checkpoint of this app. Raises CheckpointError (a ValueError) for
    a bad file, PretrainedError (a RuntimeError) when a fine-tuning checkpoint's base cannot be loaded."""
    if header_format(blob) != FINETUNE_FORMAT:
        return run_from_checkpoint(from_bytes(blob))
    ckpt = finetune_from_bytes(blob)
    base, error = get_pretrained(ckpt.config.base)
    if base is None:
        raise RuntimeError(f"This checkpoint fine-tuned {ckpt.config.base}, which cannot be loaded here: {error}")
    return finetune_run_from_checkpoint(ckpt, base, _corpus_data(ckpt.data))
