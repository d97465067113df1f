"""Points and vectors as files: a CSV of the projected points, and the two TSV files that the TensorFlow
Embedding Projector (projector.tensorflow.org, "Load") reads: vectors (one row of tab-separated numbers per
point, no header) and metadata (a header row, then one row per point, in the same order)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd


def _clean(value: object) -> str:
    """A cell without tabs or line breaks (they would shift the projector's columns)."""
    return str(value).replace("\t", " ").replace("\r", " ").replace("\n", " ")


def points_csv(frame: pd.DataFrame, coords: np.ndarray, axis_names: list[str]) -> bytes:
    """The points' metadata columns and their coordinates [n, k] as CSV (UTF-8)."""
    out = frame.reset_index(drop=True).copy()
    for i, name in enumerate(axis_names):
        out[name] = coords[:, i]
    return out.to_csv(index=False).encode("utf-8")


def projector_vectors_tsv(vectors: np.ndarray) -> bytes:
    """vectors [n, d] as tab-separated rows, no header."""
    buffer = io.StringIO()
    np.savetxt(buffer, np.asarray(vectors, dtype=np.float32), delimiter="\t", fmt="%.6g")
    return buffer.getvalue().encode("utf-8")


def projector_metadata_tsv(frame: pd.DataFrame) -> bytes:
    """One row per point. With several columns the first line names them; with one column there is no header
    (the projector's rule)."""
    columns = list(frame.columns)
    lines = [] if len(columns) == 1 else ["\t".join(_clean(c) for c in columns)]
    lines += ["\t".join(_clean(v) for v in row) for row in frame.itertuples(index=False, name=None)]
    return ("\n".join(lines) + "\n").encode("utf-8")
