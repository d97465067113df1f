"""Generated tasks: always available offline, seeded, with train and validation splits.

Each task is a function ``(spec) -> TaskData``. The same spec always gives the same data, so a
checkpoint only needs to store the spec to recreate its task.
"""

from __future__ import annotations

import math
import random
import string
from collections.abc import Callable
from dataclasses import asdict, dataclass

from explorer.data.dataset import Split, TaskData
from explorer.data.dates import dates_task
from explorer.data.tokenizers import BOS, Tokenizer

# Up to 62 one-character symbols, so most tasks stay readable in char mode.
ALPHABET = string.digits + string.ascii_lowercase + string.ascii_uppercase


MAX_TASK_TOKENS = 2_000_000  # examples × length of one generated task (≈ 20-60 MB of Python lists)


@dataclass(frozen=True)
class TaskSpec:
    """Parameters of a generated task. Not every task uses every field."""

    name: str = "reverse"
    seq_len: int = 8
    n_symbols: int = 10
    n_train: int = 5000
    n_val: int = 500
    seed: int = 0
    min_len: int = 0  # copy, reverse, sort: lengths drawn from min_len..seq_len (0: always seq_len)

    def __post_init__(self) -> None:
        if self.name not in TASKS:
            raise ValueError(f"Unknown task {self.name!r}; choose one of {', '.join(TASKS)}.")
        if not 1 <= self.seq_len <= 1024:
            raise ValueError(f"seq_len must be between 1 and 1024, got {self.seq_len}.")
        if not 2 <= self.n_symbols <= 1000:
            raise ValueError(f"n_symbols must be between 2 and 1000, got {self.n_symbols}.")
        if not 1 <= self.n_train <= 200_000 or not 1 <= self.n_val <= 50_000:
            raise ValueError("n_train must be 1..200,000 and n_val 1..50,000.")
        if not 0 <= self.min_len <= self.seq_len:
            raise ValueError(f"min_len must be between 0 (fixed length) and seq_len ({self.seq_len}); "
                             f"got {self.min_len}.")
        if self.n_tokens > MAX_TASK_TOKENS:
            raise ValueError(f"This task would hold about {self.n_tokens:,} tokens ({self.n_train + self.n_val:,} "
                             f"examples × up to {self.tokens_per_example} tokens); a generated task is limited to "
                             f"{MAX_TASK_TOKENS:,} tokens so that a shared server keeps its memory. Use fewer "
                             "examples or shorter sequences.")

    @property
    def tokens_per_example(self) -> int:
        """An upper bound of one example's tokens (source and target of a seq2seq task)."""
        if self.name == "modular_addition":
            return 4
        if self.name == "dates":
            return 40  # "3 March 2021" and "2021-03-03", a few separators
        if self.name in ("copy", "reverse", "sort", "induction"):
            return 2 * self.seq_len + 2  # source and target (induction: the stretch twice)
        return self.seq_len + 2  # one sequence and its label

    @property
    def n_tokens(self) -> int:
        """An upper bound of the tokens the task holds (train and validation)."""
        return (self.n_train + self.n_val) * self.tokens_per_example


def symbols(n: int) -> list[str]:
    """n distinct symbols: single characters while they last, then ``s62, s63, ...``."""
    return list(ALPHABET[:n]) if n <= len(ALPHABET) else list(ALPHABET) + [f"s{i}" for i in range(len(ALPHABET), n)]


def _seq2seq(spec: TaskSpec, transform: Callable[[list[int]], list[int]], description: str) -> TaskData:
    """Random sequences of ``seq_len`` symbols (``min_len``..``seq_len`` when min_len is set) and a target computed
    from each."""
    tok = Tokenizer.from_symbols(symbols(spec.n_symbols))
    first = tok.vocab_size - spec.n_symbols
    rng = random.Random(spec.seed)

    def length() -> int:
        return rng.randint(spec.min_len, spec.seq_len) if spec.min_len else spec.seq_len

    def make(n: int) -> Split:
        sources = [[rng.randrange(first, tok.vocab_size) for _ in range(length())] for _ in range(n)]
        return Split(sources=sources, targets=[transform(s) for s in sources])

    if spec.min_len:
        description += f" Lengths {spec.min_len}–{spec.seq_len}."
    return TaskData(spec.name, "seq2seq", tok, make(spec.n_train), make(spec.n_val), description, params=asdict(spec))


def copy_task(spec: TaskSpec) -> TaskData:
    return _seq2seq(spec, list, "Copy: repeat the input sequence.")


def reverse_task(spec: TaskSpec) -> TaskData:
    return _seq2seq(spec, lambda s: s[::-1], "Reverse: write the input backwards (needs positions).")


def sort_task(spec: TaskSpec) -> TaskData:
    return _seq2seq(spec, sorted, "Sort: output the input symbols in ascending order (ties kept).")


def induction_task(spec: TaskSpec) -> TaskData:
    """``<bos> noise r r noise``: a random stretch ``r`` of ``seq_len // 4 .. seq_len`` symbols repeated once at
    a random place among random symbols (``2 * seq_len + 1`` tokens). The second copy is predictable only by
    looking back to what followed the same token earlier: an induction head (Olsson et al. 2022).

    The period and the place vary on purpose: with a fixed period a head can learn "attend T - 1 positions
    back" from positions alone and solve the task without any induction head.
    """
    tok = Tokenizer.from_symbols(symbols(spec.n_symbols))
    first = tok.vocab_size - spec.n_symbols
    rng = random.Random(spec.seed)
    length = 2 * spec.seq_len + 1
    shortest = max(2, spec.seq_len // 4)

    def example() -> list[int]:
        period = rng.randint(min(shortest, spec.seq_len), spec.seq_len)
        free = length - 1 - 2 * period
        before = rng.randint(0, free)
        draw = [rng.randrange(first, tok.vocab_size) for _ in range(free + period)]
        stretch = draw[before:before + period]
        return [BOS, *draw[:before], *stretch, *stretch, *draw[before + period:]]

    def make(n: int) -> Split:
        return Split(sources=[example() for _ in range(n)])

    return TaskData(spec.name, "lm", tok, make(spec.n_train), make(spec.n_val),
                    f"A random stretch of {min(shortest, spec.seq_len)}-{spec.seq_len} symbols repeated once at a "
                    "random place: the repeat is predictable only by induction (look back, copy what came next).",
                    params=asdict(spec))


def modular_addition_task(spec: TaskSpec) -> TaskData:
    """``a + b`` -> ``(a + b) mod p`` with p = n_symbols; every pair, split at random."""
    p = spec.n_symbols
    tok = Tokenizer.from_symbols([*(str(i) for i in range(p)), "+"])
    num = [tok.id_of(str(i)) for i in range(p)]
    plus = tok.id_of("+")
    pairs = [(a, b) for a in range(p) for b in range(p)]
    random.Random(spec.seed).shuffle(pairs)
    n_val = max(1, min(spec.n_val, len(pairs) // 5))
    n_train = min(spec.n_train, len(pairs) - n_val)

    def make(chosen: list[tuple[int, int]]) -> Split:
        return Split(sources=[[num[a], plus, num[b]] for a, b in chosen],
                     targets=[[num[(a + b) % p]] for a, b in chosen])

    return TaskData(spec.name, "seq2seq", tok, make(pairs[n_val:n_val + n_train]), make(pairs[:n_val]),
                    f"Modular addition: a + b mod {p} (all {len(pairs)} pairs; unseen pairs for validation).",
                    params=asdict(spec))


def _completions(opens_left: int, depth: int) -> int:
    """Ways to finish a bracket string with ``opens_left`` "(" to place, now at ``depth`` (ballot numbers)."""
    return (depth + 1) * math.comb(2 * opens_left + depth, opens_left) // (opens_left + depth + 1)


def _balanced(rng: random.Random, n_pairs: int) -> str:
    """A balanced string of ``n_pairs`` pairs, drawn uniformly among all of them."""
    out, depth, opens_left = [], 0, n_pairs
    while opens_left or depth:
        p_open = _completions(opens_left - 1, depth + 1) / _completions(opens_left, depth) if opens_left else 0.0
        if rng.random() < p_open:
            out.append("(")
            depth, opens_left = depth + 1, opens_left - 1
        else:
            out.append(")")
            depth -= 1
    return "".join(out)


def is_balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += 1 if ch == "(" else -1 if ch == ")" else 0
        if depth < 0:
            return False
    return depth == 0


def bracket_depth(text: str) -> list[int]:
    """Nesting depth after each character (the signal a bracket-counting unit should track)."""
    depth, out = 0, []
    for ch in text:
        depth += 1 if ch == "(" else -1 if ch == ")" else 0
        out.append(depth)
    return out


def brackets_task(spec: TaskSpec) -> TaskData:
    """Is the bracket string balanced? Half are; the others are near misses of the same lengths."""
    tok = Tokenizer.from_symbols(["(", ")"])
    rng = random.Random(spec.seed)
    max_pairs = max(1, spec.seq_len // 2)

    def example(balanced: bool) -> str:
        while True:
            text = _balanced(rng, rng.randint(1, max_pairs))
            if balanced:
                return text
            chars = list(text)
            if rng.random() < 0.5:  # swap two different characters: same counts, wrong order (or still valid)
                i, j = rng.sample(range(len(chars)), 2)
                chars[i], chars[j] = chars[j], chars[i]
            else:  # flip one bracket: counts off by two
                i = rng.randrange(len(chars))
                chars[i] = "(" if chars[i] == ")" else ")"
            text = "".join(chars)
            if not is_balanced(text):
                return text

    def make(n: int) -> Split:
        labels = [i % 2 for i in range(n)]
        rng.shuffle(labels)
        texts = [example(bool(label)) for label in labels]
        return Split(sources=[tok.encode(t) for t in texts], labels=labels)

    return TaskData(spec.name, "classification", tok, make(spec.n_train), make(spec.n_val),
                    f"Balanced brackets: is a string of up to {2 * max_pairs} brackets balanced?",
                    class_names=["unbalanced", "balanced"], params=asdict(spec))


def counting_task(spec: TaskSpec) -> TaskData:
    """How many times does ``a`` occur in a string of ``seq_len`` symbols? Classes 0 .. seq_len."""
    tok = Tokenizer.from_symbols(list(ALPHABET[10:10 + min(spec.n_symbols, 26)]))
    a_id = tok.id_of("a")
    others = [i for i in range(4, tok.vocab_size) if i != a_id]
    rng = random.Random(spec.seed)

    def make(n: int) -> Split:
        sources, labels = [], []
        for _ in range(n):
            count = rng.randint(0, spec.seq_len)
            seq = [a_id] * count + [rng.choice(others) for _ in range(spec.seq_len - count)]
            rng.shuffle(seq)
            sources.append(seq)
            labels.append(count)
        return Split(sources=sources, labels=labels)

    return TaskData(spec.name, "classification", tok, make(spec.n_train), make(spec.n_val),
                    f"Counting: how many 'a's are in a string of {spec.seq_len} letters?",
                    class_names=[str(i) for i in range(spec.seq_len + 1)], params=asdict(spec))


def remember_first_task(spec: TaskSpec) -> TaskData:
    """A long-gap dependency ("I grew up in France ... I speak fluent French"): the first token is
    one of four capitals, then ``seq_len`` random digits; the label is the first token. Use
    last-state pooling: with mean pooling the first state leaks straight to the output."""
    keys = ["A", "B", "C", "D"]
    tok = Tokenizer.from_symbols([*keys, *string.digits])
    key_ids = [tok.id_of(k) for k in keys]
    digit_ids = [tok.id_of(d) for d in string.digits]
    rng = random.Random(spec.seed)

    def make(n: int) -> Split:
        labels = [rng.randrange(len(keys)) for _ in range(n)]
        sources = [[key_ids[y], *(rng.choice(digit_ids) for _ in range(spec.seq_len))] for y in labels]
        return Split(sources=sources, labels=labels)

    return TaskData(spec.name, "classification", tok, make(spec.n_train), make(spec.n_val),
                    f"Remember the first token across a gap of {spec.seq_len} random digits.",
                    class_names=keys, params=asdict(spec))


GRAMMAR_LETTERS = "abcdefgh"


def _grammar_group(rng: random.Random, budget: int, depth: int) -> list[str]:
    """One bracketed group: "(" then pairs letter-digit or nested groups, then ")"."""
    out = ["("]
    while len(out) < budget - 2:
        if depth < 2 and rng.random() < 0.25:
            inner = _grammar_group(rng, min(budget - len(out) - 1, rng.randint(4, 10)), depth + 1)
            if len(inner) > 2:
                out += inner
                continue
        out += [rng.choice(GRAMMAR_LETTERS), rng.choice(string.digits)]
        if rng.random() < 0.3:
            break
    return [*out, ")"]


def grammar_task(spec: TaskSpec) -> TaskData:
    """A tiny language mixing three kinds of symbol, each with its own role: groups in brackets hold
    letter-digit pairs or further groups, e.g. ``(a3(b7c1)d4)``. A model predicting the next symbol
    must learn what each kind does, so letters, digits and brackets separate in its embedding table
    (the distributional hypothesis in miniature)."""
    tok = Tokenizer.from_symbols(["(", ")", *GRAMMAR_LETTERS, *string.digits])
    rng = random.Random(spec.seed)
    length = max(6, spec.seq_len)

    def sentence() -> list[int]:
        symbols: list[str] = []
        while len(symbols) < length - 4:
            symbols += _grammar_group(rng, min(length - len(symbols), rng.randint(4, 16)), 0)
        return [BOS, *(tok.id_of(s) for s in symbols)]  # whole groups: may end a few symbols past length

    return TaskData(spec.name, "lm", tok, Split(sources=[sentence() for _ in range(spec.n_train)]),
                    Split(sources=[sentence() for _ in range(spec.n_val)]),
                    "A tiny grammar of brackets, letters and digits, e.g. (a3(b7c1)d4): predict the next symbol.",
                    params=asdict(spec))


TASKS: dict[str, Callable[[TaskSpec], TaskData]] = {
    "copy": copy_task,
    "reverse": reverse_task,
    "sort": sort_task,
    "induction": induction_task,
    "modular_addition": modular_addition_task,
    "brackets": brackets_task,
    "counting": counting_task,
    "remember_first": remember_first_task,
    "grammar": grammar_task,
    "dates": dates_task,
}

TASK_TITLES = {
    "copy": "Copy", "reverse": "Reverse", "sort": "Sort", "induction": "Repeated random stretch (induction heads)",
    "modular_addition": "Modular addition", "brackets": "Balanced brackets", "counting": "Counting",
    "remember_first": "Remember the first token (long gap)",
    "grammar": "Brackets, letters and digits (a tiny grammar)",
    "dates": "Dates in several formats → ISO (2021-03-03)",
}

TASK_DEFAULTS = {  # (seq_len, n_symbols) of each task that train in about a minute on a laptop
    "copy": (8, 10), "reverse": (8, 10), "sort": (8, 10), "induction": (20, 30), "modular_addition": (1, 23),
    "brackets": (20, 2), "counting": (12, 4), "remember_first": (30, 10), "grammar": (32, 2), "dates": (10, 2),
}
LENGTH_TASKS = ("copy", "reverse", "sort")  # the tasks whose lengths may vary (TaskSpec.min_len)


def make_task(spec: TaskSpec) -> TaskData:
    """Generate the task a spec describes."""
    return TASKS[spec.name](spec)
