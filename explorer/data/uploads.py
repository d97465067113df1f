"""User uploads (the bytes of a Streamlit ``file_uploader``): a .txt for language modelling, a .csv for classification.

Everything is checked before training, and every problem raises :class:`UploadError` with a message a student can
act on. Files are only decoded as UTF-8 text and parsed with the ``csv`` module: nothing is ever executed.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

from explorer.data.dataset import TaskData
from explorer.data.names import safe_name
from explorer.data.text_tasks import classification_task, lm_task_from_text

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MIN_LM_CHARS = 100
MAX_CLASSES = 50
MIN_PER_CLASS = 2
TEXT_COLUMNS = ("text", "review", "sentence")
LABEL_COLUMNS = ("label", "sentiment", "class")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class UploadError(ValueError):
    """An uploaded file cannot be used; the message says why and how to fix it."""


def _mb(n_bytes: int) -> str:
    return f"{n_bytes / (1024 * 1024):.1f} MB"


def decode_upload(filename: str, data: bytes) -> str:
    """Check size and encoding; return the text (UTF-8, byte-order mark removed, ``\\n`` line ends)."""
    if not data:
        raise UploadError(f"{filename} is empty.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(f"{filename} is {_mb(len(data))}, over the {MAX_UPLOAD_BYTES // (1024 * 1024)} MB limit "
                          f"for uploads. Upload a shorter excerpt.")
    if data.startswith(_UTF16_BOMS) or _looks_like_utf16(data):
        raise UploadError(f"{filename} is saved as UTF-16. Save it again as UTF-8 (in Excel: 'CSV UTF-8'; "
                          f"in a text editor: encoding 'UTF-8').")
    if b"\x00" in data:
        raise UploadError(f"{filename} is not a text file (it contains binary data; is it a spreadsheet, PDF or "
                          f"Word document?). Save or export it as plain text (.txt) or CSV, encoding UTF-8.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        message = (f"{filename} is not UTF-8 text (byte {err.start} cannot be read; it was probably saved as "
                   f"Windows-1252/Latin-1). Save it again with encoding UTF-8 (in Excel: 'CSV UTF-8').")
        raise UploadError(message) from err
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _looks_like_utf16(data: bytes) -> bool:
    """UTF-16 without a byte-order mark: text of mostly ASCII characters has a zero byte in every other place."""
    sample = data[:4096]
    if len(sample) < 4 or b"\x00" not in sample:
        return False
    even, odd = sample[0::2], sample[1::2]
    return max(even.count(0) / len(even), odd.count(0) / len(odd)) > 0.3 and min(even.count(0), odd.count(0)) == 0


def _task_name(filename: str) -> str:
    return safe_name(Path(filename).name, default="upload")


# ----------------------------------------------------------------------------------------------- text
def read_text_upload(filename: str, data: bytes, *, mode: str = "char", max_vocab: int = 10_000,
                     val_fraction: float = 0.1, lowercase: bool = False) -> TaskData:
    """A .txt upload -> a language-modelling task (validation: the last ``val_fraction`` of the text)."""
    text = decode_upload(filename, data)
    n_chars = len(text.strip())
    if n_chars < MIN_LM_CHARS:
        raise UploadError(f"{filename} has only {n_chars} characters of text; a language model needs at least "
                          f"{MIN_LM_CHARS} (a few paragraphs or more works much better).")
    name = _task_name(filename)
    return lm_task_from_text(name, text, mode=mode, max_vocab=max_vocab, val_fraction=val_fraction,
                             lowercase=lowercase, origin="upload", params={"filename": name},
                             description=f"Uploaded text {name} ({n_chars:,} characters).")


# ----------------------------------------------------------------------------------------------- CSV
def _delimiter(text: str) -> str:
    """Comma, semicolon (European Excel) or tab: whichever the header line has most of."""
    first_line = text.split("\n", 1)[0]
    return max((",", ";", "\t"), key=first_line.count)


def _parse_csv(filename: str, text: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows (blank lines skipped)."""
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
        rows = [row for row in reader if any(field.strip() for field in row)]
    except csv.Error as err:
        raise UploadError(f"{filename} is not a readable CSV file ({err}). Check its quotes, or export it again "
                          f"from your spreadsheet as 'CSV UTF-8'.") from err
    if len(rows) < 2:
        raise UploadError(f"{filename} needs a header row (column names) and at least one row of data.")
    header = [name.strip() for name in rows[0]]
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise UploadError(f"{filename} is not a readable CSV file: row {number} has {len(row)} fields but the "
                              f"header has {len(header)} ({', '.join(header)}). Text with commas must be in quotes.")
    return header, rows[1:]


def csv_columns(data: bytes, filename: str = "the file") -> list[str]:
    """The column names of a CSV upload (for the UI's column pickers)."""
    header, _ = _parse_csv(filename, decode_upload(filename, data))
    return header


def guess_column(header: list[str], candidates: tuple[str, ...]) -> int | None:
    """The index of the first of ``candidates`` found among the column names (case-insensitive), else None."""
    lowered = [h.lower() for h in header]
    return next((lowered.index(name) for name in candidates if name in lowered), None)


def _pick_column(header: list[str], wanted: str | None, candidates: tuple[str, ...], role: str,
                 filename: str) -> int:
    found = ", ".join(repr(h) for h in header)
    if wanted is not None:
        if wanted not in header:
            raise UploadError(f"{filename} has no column {wanted!r}; columns found: {found}.")
        return header.index(wanted)
    guessed = guess_column(header, candidates)
    if guessed is not None:
        return guessed
    raise UploadError(f"{filename} has no {role} column; columns found: {found}. Name it "
                      f"{' / '.join(repr(c) for c in candidates)}, or choose the {role} column.")


def _class_names(values: list[str]) -> list[str]:
    """Distinct labels, sorted: numerically when all are numbers (so -1 < 1 < 10), else as text."""
    distinct = set(values)
    try:
        return sorted(distinct, key=float)
    except ValueError:
        return sorted(distinct)


def _check_classes(filename: str, column: str, values: list[str]) -> None:
    counts = Counter(values)
    if len(counts) < 2:
        only = f" (every row is {next(iter(counts))!r})" if counts else ""
        raise UploadError(f"Column {column!r} of {filename} has a single class{only}; a classifier needs at least "
                          f"two different labels.")
    if len(counts) > MAX_CLASSES:
        raise UploadError(f"Column {column!r} of {filename} has {len(counts)} different labels; at most "
                          f"{MAX_CLASSES} classes are supported. Is it really the label column?")
    rare = sorted((label, n) for label, n in counts.items() if n < MIN_PER_CLASS)
    if rare:
        shown = ", ".join(f"{label!r} ({n})" for label, n in rare[:5]) + (" …" if len(rare) > 5 else "")
        raise UploadError(f"In {filename}, some classes have fewer than {MIN_PER_CLASS} examples: {shown}. Every "
                          f"class needs at least {MIN_PER_CLASS} (one may go to validation). Add examples or remove "
                          f"those rows.")


def read_csv_upload(filename: str, data: bytes, *, text_column: str | None = None, label_column: str | None = None,
                    mode: str = "word", max_vocab: int = 10_000, max_len: int = 200, val_fraction: float = 0.1,
                    seed: int = 0, lowercase: bool = True) -> TaskData:
    """A .csv upload with a text column and a label column -> a classification task.

    Columns default to the first named text/review/sentence and label/sentiment/class (any case). Labels may be
    words or numbers: the sorted distinct values become classes ``0..n-1`` and keep their names. Rows with an empty
    text or label are skipped.
    """
    header, rows = _parse_csv(filename, decode_upload(filename, data))
    text_at = _pick_column(header, text_column, TEXT_COLUMNS, "text", filename)
    label_at = _pick_column(header, label_column, LABEL_COLUMNS, "label", filename)
    if text_at == label_at:
        raise UploadError(f"The text and the label must be different columns (both are {header[text_at]!r}).")
    pairs = [(row[text_at].strip(), row[label_at].strip()) for row in rows]
    pairs = [(text, label) for text, label in pairs if text and label]
    if not pairs:
        raise UploadError(f"{filename} has no row with both a text and a label.")
    _check_classes(filename, header[label_at], [label for _, label in pairs])
    names = _class_names([label for _, label in pairs])
    index = {name: i for i, name in enumerate(names)}
    name = _task_name(filename)
    return classification_task(
        name, [text for text, _ in pairs], [index[label] for _, label in pairs], names, mode=mode,
        max_vocab=max_vocab, max_len=max_len, val_fraction=val_fraction, seed=seed, lowercase=lowercase,
        origin="upload", params={"filename": name, "text_column": header[text_at], "label_column": header[label_at],
                                 "n_skipped_rows": len(rows) - len(pairs)},
        description=f"Uploaded {name}: {len(pairs):,} texts in {len(names)} classes ({', '.join(names[:10])}"
                    f"{', …' if len(names) > 10 else ''}).")
