"""Example inputs a page starts from, taken from a dataset's validation split, and text with typed specials.

A page shows real inputs of the task before the user types anything: the first validation example (written with
literal special tokens such as ``<sep>`` so that it tokenizes back to the same ids), the start of a validation
text, or a prompt made of half an example.
"""

from __future__ import annotations

import re

from explorer.data.dataset import TaskData
from explorer.data.tokenizers import BOS, SEP, SPECIALS, Tokenizer

SPECIAL_PATTERN = re.compile("(" + "|".join(re.escape(s) for s in SPECIALS) + ")")


def encode_with_specials(tokenizer: Tokenizer, text: str) -> tuple[list[int], list[str], list[str]]:
    """Ids and token strings of ``text``; "<sep>", "<bos>"… typed literally become their special tokens.

    Returns (ids, token strings, the typed tokens that were read as <unk>).
    """
    ids: list[int] = []
    pieces: list[str] = []
    unknown: list[str] = []
    for part in SPECIAL_PATTERN.split(text):
        if not part:
            continue
        if part in SPECIALS:
            ids.append(tokenizer.id_of(part))
            pieces.append(part)
            continue
        part_ids, part_pieces, part_unknown = tokenizer.encode_marked(part)
        ids += part_ids
        pieces += part_pieces
        unknown += [p for p, u in zip(part_pieces, part_unknown) if u]
    return ids, pieces, unknown


def example_texts(tokenizer: Tokenizer, data: TaskData | None, encoder_decoder: bool = False,
                  index: int = 0) -> tuple[str, str]:
    """(input, decoder target) of validation example ``index``, with literal special tokens.

    A decoder-only model reads a source → target task as ``source <sep> target``; an encoder-decoder gets the
    source and the target apart. Without data: a dozen tokens of the vocabulary; for a text stream: its first
    60 tokens (``index`` picks the next 60).
    """
    if data is None:
        return tokenizer.decode(range(len(SPECIALS), min(len(tokenizer.tokens), len(SPECIALS) + 12))), ""
    if data.is_stream:
        return tokenizer.decode(data.val.stream[60 * index:60 * (index + 1)].tolist(), skip_special=False), ""
    index = min(index, len(data.val.sources) - 1)
    source = data.val.sources[index]
    target = data.val.targets[index] if data.val.targets else []
    if encoder_decoder:
        return tokenizer.decode(source, skip_special=False), tokenizer.decode(target, skip_special=False)
    if target:
        return tokenizer.decode([*source, SEP, *target], skip_special=False), ""
    return tokenizer.decode(source, skip_special=False), ""


def validation_inputs(data: TaskData | None) -> list[list[int]]:
    """Validation inputs as a decoder-only model or an RNN reads them (source → target: ``source <sep> target``);
    empty for a text stream or without data."""
    if data is None or data.is_stream:
        return []
    if data.kind == "seq2seq" and data.val.targets is not None:
        return [[*src, SEP, *tgt] for src, tgt in zip(data.val.sources, data.val.targets)]
    return data.val.sources


def prompt_text(data: TaskData) -> str:
    """A prompt to continue: the first 40 tokens of a validation text, or the first half of an example (+2)."""
    if data.is_stream:
        return data.tokenizer.decode(data.val.stream[:40].tolist())
    example = [t for t in data.val.sources[0] if t not in (BOS, SEP)]
    return data.tokenizer.decode(example[: len(example) // 2 + 2])
