"""Generated tasks are seeded, correct, and format into the tensors each model kind needs."""

from __future__ import annotations

import pytest
import torch

from explorer.data.batches import IGNORE, check_compatible, format_split
from explorer.data.tasks import TASKS, TaskSpec, bracket_depth, is_balanced, make_task
from explorer.data.tokenizers import BOS, PAD, SEP, Tokenizer
from explorer.models import RecurrentConfig, TransformerConfig


@pytest.mark.parametrize("name", list(TASKS))
def test_tasks_are_reproducible_and_split(name: str) -> None:
    spec = TaskSpec(name=name, n_train=100, n_val=20, seed=3)
    a, b = make_task(spec), make_task(spec)
    assert a.train.sources == b.train.sources and a.val.sources == b.val.sources
    assert len(a.train) > 0 and len(a.val) > 0
    assert make_task(TaskSpec(name=name, n_train=100, n_val=20, seed=4)).train.sources != a.train.sources
    for src in a.train.sources:
        assert all(0 <= t < a.tokenizer.vocab_size for t in src)


def test_seq2seq_targets_are_right() -> None:
    tok_of = lambda d, ids: d.tokenizer.to_str_tokens(ids)  # noqa: E731
    rev = make_task(TaskSpec(name="reverse", n_train=50, n_val=5))
    srt = make_task(TaskSpec(name="sort", n_train=50, n_val=5))
    for src, tgt in zip(rev.train.sources, rev.train.targets):
        assert tgt == src[::-1]
    for src, tgt in zip(srt.train.sources, srt.train.targets):
        assert tok_of(srt, tgt) == sorted(tok_of(srt, src))


def test_modular_addition_is_correct_and_validation_is_unseen() -> None:
    data = make_task(TaskSpec(name="modular_addition", n_symbols=7, n_train=10_000, n_val=10))
    seen = set()
    for split in (data.train, data.val):
        for src, tgt in zip(split.sources, split.targets):
            a, plus, b = data.tokenizer.to_str_tokens(src)
            assert plus == "+" and int(data.tokenizer.to_str_tokens(tgt)[0]) == (int(a) + int(b)) % 7
    for src in data.train.sources:
        seen.add(tuple(src))
    assert not any(tuple(src) in seen for src in data.val.sources)


def test_brackets_labels_and_depth() -> None:
    data = make_task(TaskSpec(name="brackets", seq_len=16, n_train=400, n_val=10))
    texts = [data.tokenizer.decode(s) for s in data.train.sources]
    assert [int(is_balanced(t)) for t in texts] == data.train.labels
    assert 150 < sum(data.train.labels) < 250  # about half balanced
    assert max(len(t) for t in texts) <= 16
    assert bracket_depth("(()())") == [1, 2, 1, 2, 1, 0]


def test_induction_sequences_repeat_a_stretch_of_random_period_and_place() -> None:
    data = make_task(TaskSpec(name="induction", seq_len=12, n_train=200, n_val=2))
    periods, starts = set(), set()
    for seq in data.train.sources:
        assert seq[0] == BOS and len(seq) == 25
        body = seq[1:]
        found = next((t, a) for t in range(12, 2, -1) for a in range(len(body) - 2 * t + 1)
                     if body[a:a + t] == body[a + t:a + 2 * t])
        periods.add(found[0])
        starts.add(found[1])
    assert len(periods) >= 6 and len(starts) >= 6  # no fixed offset to learn from positions alone


def test_lm_formatting_of_a_seq2seq_task_only_scores_the_target() -> None:
    data = make_task(TaskSpec(name="copy", seq_len=4, n_train=3, n_val=2))
    cfg = RecurrentConfig(d_vocab=data.tokenizer.vocab_size)
    f = format_split(data.train, data, cfg)
    src, tgt = data.train.sources[0], data.train.targets[0]
    assert f.inputs[0].tolist() == [*src, SEP, *tgt[:-1]]
    assert f.labels[0].tolist() == [IGNORE] * 4 + tgt


def test_encoder_decoder_formatting() -> None:
    data = make_task(TaskSpec(name="reverse", seq_len=5, n_train=3, n_val=2))
    cfg = TransformerConfig(d_vocab=data.tokenizer.vocab_size, encoder_decoder=True, pad_id=PAD)
    f = format_split(data.train, data, cfg)
    assert f.inputs[0].tolist() == data.train.sources[0]
    assert f.decoder_inputs[0].tolist() == [BOS, *data.train.targets[0][:-1]]
    assert f.labels[0].tolist() == data.train.targets[0]


def test_classification_formatting_pads() -> None:
    data = make_task(TaskSpec(name="brackets", seq_len=12, n_train=20, n_val=4))
    cfg = RecurrentConfig(d_vocab=6, head="classifier", pad_id=PAD)
    f = format_split(data.train, data, cfg)
    assert f.labels.tolist() == data.train.labels
    lengths = (f.inputs != PAD).sum(1).tolist()
    assert lengths == [len(s) for s in data.train.sources]


def test_incompatible_model_and_task_say_what_to_change() -> None:
    brackets = make_task(TaskSpec(name="brackets", n_train=10, n_val=2))
    copy = make_task(TaskSpec(name="copy", seq_len=30, n_train=10, n_val=2))
    with pytest.raises(ValueError, match="classifier head"):
        check_compatible(brackets, RecurrentConfig(d_vocab=6, head="lm"))
    with pytest.raises(ValueError, match="n_classes"):
        check_compatible(brackets, RecurrentConfig(d_vocab=6, head="classifier", n_classes=3))
    with pytest.raises(ValueError, match="d_vocab to at least"):
        check_compatible(copy, TransformerConfig(d_vocab=5))
    with pytest.raises(ValueError, match="raise n_ctx to at least 61"):
        check_compatible(copy, TransformerConfig(d_vocab=20, n_ctx=40, positional="learned"))
    check_compatible(copy, TransformerConfig(d_vocab=20, n_ctx=40, positional="rotary"))


def test_tokenizers_round_trip_and_mark_unknowns() -> None:
    chars = Tokenizer.fit(["hello world"], mode="char")
    assert chars.decode(chars.encode("hello")) == "hello"
    words = Tokenizer.fit(["The cat sat.", "the dog sat!"], mode="word", lowercase=True, max_vocab=8)
    _ids, pieces, unknown = words.encode_marked("The zebra sat.")
    assert pieces == ["the", "zebra", "sat", "."] and unknown == [False, True, False, False]
    assert Tokenizer.from_dict(words.to_dict()) == words
    with pytest.raises(ValueError):
        Tokenizer(mode="char", tokens=["a", "b"])


def test_stream_windows() -> None:
    from explorer.data.dataset import Split, TaskData

    tok = Tokenizer.fit(["abcdefgh"], mode="char")
    stream = torch.tensor(tok.encode("abcdefgh" * 10))
    data = TaskData("text", "lm", tok, Split(stream=stream), Split(stream=stream[:20]))
    f = format_split(data.train, data, RecurrentConfig(d_vocab=tok.vocab_size), seq_len=8)
    assert f.inputs.shape == (9, 8)
    assert torch.equal(f.inputs[:, 1:], f.labels[:, :-1])


def test_grammar_sentences_are_bracketed_letter_digit_pairs() -> None:
    data = make_task(TaskSpec(name="grammar", seq_len=32, n_train=200, n_val=10))
    for seq in data.train.sources:
        text = data.tokenizer.decode(seq)
        assert seq[0] == BOS and is_balanced(text) and len(text) >= 28
        inner = text.replace("(", "").replace(")", "")
        assert all(a.isalpha() and b.isdigit() for a, b in zip(inner[::2], inner[1::2]))


def test_grammar_task_separates_symbol_kinds_in_the_embedding_table() -> None:
    """The Embeddings page's one-click run: letters, digits and brackets form groups in W_E."""
    import dataclasses

    import numpy as np
    from sklearn.decomposition import PCA
    from sklearn.metrics import silhouette_score

    from explorer.training.presets import PRESETS
    from explorer.training.run import new_run

    data = make_task(TaskSpec(name="grammar", seq_len=32, n_train=2000, n_val=100))
    model_cfg, train_cfg = PRESETS["LSTM"].build(data)
    run = new_run("kinds", data, model_cfg, dataclasses.replace(train_cfg, optimizer="adamw", weight_decay=0.3))
    kinds = ["bracket" if t in "()" else "digit" if t.isdigit() else "letter" for t in data.tokenizer.tokens[4:]]

    def separation() -> float:
        table = run.model.W_E.detach()[4:].numpy()
        flat = PCA(2).fit_transform(table - table.mean(0))  # the page's default 2-D map
        return float(silhouette_score(flat, kinds))

    before = separation()
    run.trainer.step(n_steps=500)
    assert before < 0.1 < 0.4 < separation()
    assert np.isfinite(run.trainer.last_loss)
