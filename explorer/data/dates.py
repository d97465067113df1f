"""A real seq2seq task that a teacher recognises, generated offline: dates written in several ways → ISO 8601.

"March 3, 2021", "3 March 2021", "3 Mar 2021", "Mar 03, 2021", "03.03.2021" (day first, as in much of Europe) and
"2021/3/3" all become "2021-03-03". Characters in, characters out; the formats are chosen so that none is
ambiguous (there is no "03/04/2021", which reads as March or April depending on the country). Years 1950–2049.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from explorer.data.dataset import Split, TaskData
from explorer.data.tokenizers import SPECIALS, Tokenizer

FIRST_DAY = datetime.date(1950, 1, 1)
N_DAYS = (datetime.date(2049, 12, 31) - FIRST_DAY).days + 1
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
FORMATS: dict[str, Callable[[datetime.date], str]] = {
    "March 3, 2021": lambda d: f"{MONTHS[d.month - 1]} {d.day}, {d.year}",
    "3 March 2021": lambda d: f"{d.day} {MONTHS[d.month - 1]} {d.year}",
    "3 Mar 2021": lambda d: f"{d.day} {MONTHS[d.month - 1][:3]} {d.year}",
    "Mar 03, 2021": lambda d: f"{MONTHS[d.month - 1][:3]} {d.day:02d}, {d.year}",
    "03.03.2021": lambda d: f"{d.day:02d}.{d.month:02d}.{d.year}",
    "2021/3/3": lambda d: f"{d.year}/{d.month}/{d.day}",
}
CHARACTERS = sorted(set("0123456789 ,./-" + "".join(MONTHS)))


def date_tokenizer() -> Tokenizer:
    """One token per character (spaces included) of every format and of the ISO target."""
    return Tokenizer(mode="char", tokens=[*SPECIALS, *CHARACTERS])


def written_date(date: datetime.date, style: str) -> str:
    return FORMATS[style](date)


def dates_task(spec: Any) -> TaskData:
    """``n_train`` + ``n_val`` random dates (seeded), each in a random format; validation dates never occur in
    training. ``spec`` is a :class:`explorer.data.tasks.TaskSpec` (its length and symbol fields are unused)."""
    tok = date_tokenizer()
    rng = random.Random(spec.seed)
    total = min(spec.n_train + spec.n_val, N_DAYS)
    days = rng.sample(range(N_DAYS), total)
    n_val = min(spec.n_val, total // 5)
    styles = list(FORMATS)

    def make(chosen: list[int]) -> Split:
        dates = [FIRST_DAY + datetime.timedelta(days=d) for d in chosen]
        sources = [tok.encode(written_date(d, rng.choice(styles))) for d in dates]
        return Split(sources=sources, targets=[tok.encode(d.isoformat()) for d in dates])

    return TaskData(spec.name, "seq2seq", tok, make(days[n_val:]), make(days[:n_val]),
                    "Dates in six formats (March 3, 2021 · 3 Mar 2021 · 03.03.2021 · 2021/3/3 …) → ISO 2021-03-03.",
                    params=asdict(spec))
