"""Uploads: good files become tasks; every bad file gives an UploadError a student can act on."""

from __future__ import annotations

import pytest

from explorer.data import uploads
from explorer.data.uploads import UploadError, csv_columns, read_csv_upload, read_text_upload

STORY = ("Once upon a time there was a small recurrent network that wanted to read Shakespeare. "
         "It read every night, one character at a time, and it slowly learned to spell.\n") * 5


def _csv(rows: list[tuple[str, str]], header: str = "text,label") -> bytes:
    return (header + "\n" + "".join(f'"{text}",{label}\n' for text, label in rows)).encode()


GOOD_ROWS = [(f"what a great movie {i}", "pos") for i in range(6)] + \
            [(f"a boring, bad movie {i}", "neg") for i in range(6)] + \
            [(f"it was fine I guess {i}", "meh") for i in range(3)]


# ----------------------------------------------------------------------------------------------- good files
def test_text_upload_becomes_a_language_modelling_task() -> None:
    data = read_text_upload("story.txt", STORY.encode("utf-8"))
    assert data.kind == "lm" and data.origin == "upload" and data.name == "story.txt"
    assert len(data.train) + len(data.val) == len(STORY)
    assert data.tokenizer.mode == "char"
    words = read_text_upload("story.txt", STORY.encode(), mode="word")
    assert words.tokenizer.mode == "word" and "network" in words.tokenizer.tokens


def test_text_upload_accepts_bom_and_windows_line_ends() -> None:
    data = read_text_upload("w.txt", b"\xef\xbb\xbf" + STORY.replace("\n", "\r\n").encode())
    assert "\r" not in data.tokenizer.tokens and "\ufeff" not in data.tokenizer.tokens


def test_csv_upload_with_string_labels() -> None:
    data = read_csv_upload("reviews.csv", _csv(GOOD_ROWS), val_fraction=0.2)
    assert data.kind == "classification" and data.origin == "upload"
    assert data.class_names == ["meh", "neg", "pos"]  # sorted distinct labels -> 0..n-1
    assert len(data.train) + len(data.val) == len(GOOD_ROWS)
    for split in (data.train, data.val):
        for ids, label in zip(split.sources, split.labels):
            words = data.tokenizer.to_str_tokens(ids)
            expected = "pos" if "great" in words else "neg" if "boring" in words else "meh"
            assert data.class_names[label] == expected
    assert data.params["text_column"] == "text" and data.params["label_column"] == "label"


def test_csv_columns_are_auto_detected_in_any_case_and_with_semicolons() -> None:
    raw = ("\ufeffId;Review;Sentiment\n" + "".join(f"{i};nice film {i};{i % 2}\n" for i in range(10))).encode()
    assert csv_columns(raw) == ["Id", "Review", "Sentiment"]
    data = read_csv_upload("excel.csv", raw)
    assert data.params["text_column"] == "Review" and data.class_names == ["0", "1"]


def test_csv_numeric_labels_sort_as_numbers_and_columns_can_be_chosen() -> None:
    rows = [(f"text {i}", str(v)) for i, v in enumerate([10, -1, 2] * 3)]
    raw = _csv(rows, header="body,score")
    data = read_csv_upload("n.csv", raw, text_column="body", label_column="score")
    assert data.class_names == ["-1", "2", "10"]


def test_csv_rows_with_empty_text_or_label_are_skipped() -> None:
    raw = _csv([*GOOD_ROWS, ("", "pos"), ("no label here", "")])
    data = read_csv_upload("r.csv", raw)
    assert len(data.train) + len(data.val) == len(GOOD_ROWS) and data.params["n_skipped_rows"] == 2


# ----------------------------------------------------------------------------------------------- bad files
@pytest.mark.parametrize(("data", "expected"), [
    (b"", "is empty"),
    (b"PK\x03\x04\x00\x00binary zip", "not a text file"),
    ("café au lait, ".encode("latin-1") * 20, "UTF-8"),
    ("text,label\nhello,1\n".encode("utf-16"), "UTF-16"),
])
def test_text_and_csv_reject_unreadable_files(data: bytes, expected: str) -> None:
    with pytest.raises(UploadError, match=expected):
        read_text_upload("f.txt", data)
    with pytest.raises(UploadError, match=expected):
        read_csv_upload("f.csv", data)


def test_too_large_file_names_the_limit_and_the_size() -> None:
    big = b"a" * (uploads.MAX_UPLOAD_BYTES + 1)
    with pytest.raises(UploadError, match=r"is 10\.0 MB, over the 10 MB limit"):
        read_text_upload("big.txt", big)


def test_too_little_text_for_a_language_model() -> None:
    with pytest.raises(UploadError, match="at least 100"):
        read_text_upload("short.txt", b"To be or not to be.")


@pytest.mark.parametrize(("raw", "kwargs", "expected"), [
    (b'text,label\n"never closed,1\n', {}, "not a readable CSV"),
    (b"text,label\nhello,1,extra\n", {}, "row 2 has 3 fields"),
    (b"text,label\n", {}, "header row"),
    (b"comment,label\nhi,1\nho,0\n", {}, "no text column; columns found: 'comment', 'label'"),
    (b"text,stars\nhi,1\nho,0\n", {}, "no label column; columns found: 'text', 'stars'"),
    (b"text,label\nhi,1\nho,0\n", {"text_column": "body"}, "no column 'body'; columns found"),
    (b"text,label\nhi,1\nho,0\n", {"text_column": "text", "label_column": "text"}, "different columns"),
    (b"text,label\nhi,pos\nho,pos\nhey,pos\n", {}, "single class"),
    (b"text,label\nhi,pos\nho,pos\nhey,neg\n", {}, "fewer than 2 examples: 'neg' \\(1\\)"),
])
def test_bad_csv_gives_a_helpful_upload_error(raw: bytes, kwargs: dict[str, str], expected: str) -> None:
    with pytest.raises(UploadError, match=expected):
        read_csv_upload("data.csv", raw, **kwargs)


def test_more_than_50_classes_is_rejected() -> None:
    raw = _csv([(f"text {i}", f"id{i // 2}") for i in range(120)])
    with pytest.raises(UploadError, match="60 different labels; at most 50"):
        read_csv_upload("ids.csv", raw)


def test_upload_error_is_a_value_error() -> None:
    assert issubclass(UploadError, ValueError)
