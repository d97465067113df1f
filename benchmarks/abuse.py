"""The bad-input catalogue against a running server: what an attacker or a careless student sends, replayed through
Streamlit's own websocket protocol (benchmarks/st_client.py) at ``streamlit run app.py`` on this machine.

Each entry is one input in a fresh session: hostile checkpoints (a script in the vocabulary, a task bomb, deep
JSON, a huge snapshot budget, empty, random, cut short, a pickle, over the size limit), bad data files (empty,
binary, UTF-16 without a byte-order mark, CSVs without a label column or with one column, over the limit),
10,000-token pastes into every page that reads text, the form at its maxima, absurd hyperparameters, Markdown in
names and stale or forged links. Meanwhile one thread asks the server's health endpoint every 0.2 s and another
samples its memory.

Printed per input: seconds, exceptions shown, whether the page answered with a message. Last line: one JSON object
with ``inputs_tried``, ``exceptions_shown``, ``server_unresponsive_s_max`` (the longest health check),
``rss_growth_mb_max`` (peak server memory above the idle server's — every page opened once, MiniLM's weights read,
start-up's background work done — while the server still keeps every input's session, its tab closed, and the
server-wide caches fill),
``rss_growth_one_input_mb_max`` (the most one input added) and ``script_executed`` (the payload reached a viewer's
page as live HTML: inside markdown that allows HTML, ``st.html`` or an iframe's document, unescaped).
Whether a browser would run it is checked in a real one by tests/test_browser_security.py.

Uploads go through the server's upload endpoint as a browser's do; the server runs with XSRF protection off for
that (this client does not keep cookies).
"""

from __future__ import annotations

import base64
import json
import os
import pickle
import re
import struct
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import _common  # noqa: F401  (import path)
from _common import report
from st_client import RunResult, StreamlitClient
from st_server import Server

from explorer.data.tasks import TaskSpec, make_task
from explorer.data.tokenizers import SPECIALS, Tokenizer
from explorer.models import RecurrentConfig, TransformerConfig, build_model
from explorer.training.checkpoints import Checkpoint, checkpoint_from_trainer, to_bytes
from explorer.training.config import TrainConfig
from explorer.training.trainer import Trainer

PAYLOAD = "</script><svg/onload=alert(document.title)>"
LIVE_PAYLOAD = re.compile(r"<svg/onload|<img src=x onerror", re.IGNORECASE)
PASTE = " ".join(["the", "students", "opened", "their", "notebooks", "<b>", "🤖"] * 1_430)  # ≈ 10,000 words
PORT = int(os.environ.get("ABUSE_PORT", 8891))
WARM_PAGES = ("", "train", "attention", "forward", "circuits", "tokens", "positions", "embeddings", "lstm", "seq2seq",
              "compare", "finetune", "runs")
WARM_SETTLE_S = 10.0
SINK_REACHED: list[bool] = []  # bertviz drew the hostile token (so the escaping, not its absence, kept it inert)


# ------------------------------------------------------------------ hostile files
def injection_checkpoint() -> bytes:
    """A checkpoint whose symbol vocabulary holds a script-breaking token."""
    tokenizer = Tokenizer(mode="symbol", tokens=[*SPECIALS, PAYLOAD, "a", "b"])
    config = TransformerConfig(d_vocab=tokenizer.vocab_size, n_ctx=16, d_model=16, n_heads=2, n_layers=1, d_mlp=32)
    return to_bytes(Checkpoint(name="shared model", model_config=config, state_dict=build_model(config).state_dict(),
                               tokenizer=tokenizer, data={"name": "hand-made", "origin": "upload"}))


def small_checkpoint() -> bytes:
    data = make_task(TaskSpec(name="reverse", seq_len=4, n_train=50, n_val=10))
    trainer = Trainer(build_model(RecurrentConfig(d_vocab=data.tokenizer.vocab_size, d_hidden=8)), data,
                      TrainConfig(max_steps=2))
    return to_bytes(checkpoint_from_trainer(trainer, "![x](http://example.invalid/x.png) <img src=x onerror=1>"))


def edited_checkpoint(edit: Callable[[dict], None]) -> bytes:
    """``small_checkpoint`` with its header's metadata changed by ``edit`` (as an attacker with a hex editor)."""
    blob = small_checkpoint()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    edit(header["__metadata__"])
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + blob[8 + n:]


def _task_bomb(meta: dict) -> None:
    data = json.loads(meta["data"])
    data["params"].update(n_train=200_000, n_val=50_000, seq_len=1024)
    meta["data"] = json.dumps(data)


def _snapshot_budget(meta: dict) -> None:
    for key, value in list(meta.items()):
        if "train" in key and value.startswith("{"):
            train = json.loads(value)
            train["snapshot_budget_mb"] = 1024
            meta[key] = json.dumps(train)


def nested_header() -> bytes:
    nested = b"[" * 100_000 + b"]" * 100_000
    return struct.pack("<Q", len(nested)) + nested


def pickle_file() -> bytes:
    class Boom:
        def __reduce__(self):
            return (print, ("unpickled!",))
    return pickle.dumps({"weights": Boom()})


def utf16_without_bom() -> bytes:
    return ("a line of text that a student saved from a word processor\n" * 200).encode("utf-16-le")


CHECKPOINTS: dict[str, Callable[[], bytes]] = {
    "checkpoint: a script in the vocabulary (then bertviz)": injection_checkpoint,
    "checkpoint: a task of 200,000 × 1,024 tokens": lambda: edited_checkpoint(_task_bomb),
    "checkpoint: a snapshot budget of 1 GB": lambda: edited_checkpoint(_snapshot_budget),
    "checkpoint: a header nested 100,000 deep": nested_header,
    "checkpoint: empty": lambda: b"",
    "checkpoint: 1 MB of random bytes": lambda: os.urandom(2**20),
    "checkpoint: cut short": lambda: small_checkpoint()[:-100],
    "checkpoint: a pickle renamed .safetensors": pickle_file,
    "checkpoint: Markdown and HTML in its name": small_checkpoint,
}
DATA_FILES: dict[str, tuple[str, Callable[[], bytes]]] = {
    "data: an empty .txt": ("empty.txt", lambda: b""),
    "data: binary bytes as .txt": ("photo.txt", lambda: b"\x89PNG\r\n\x1a\n" + os.urandom(50_000)),
    "data: UTF-16 without a byte-order mark": ("notes.txt", utf16_without_bom),
    "data: a CSV without a label column": ("reviews.csv", lambda: b"review,stars_text\ngood film,x\nbad,y\n" * 50),
    "data: a CSV with one column": ("one.csv", lambda: b"text\n" + b"just text\n" * 100),
    "data: a CSV with a broken quote": ("broken.csv", lambda: b'text,label\n"unclosed,1\nok,0\n' * 40),
    "data: 11 MB of text (over the limit)": ("big.txt", lambda: b"word " * (11 * 2**20 // 5)),
    "data: 5 MB on a single line": ("line.txt", lambda: b"x" * (5 * 2**20)),
}


# ------------------------------------------------------------------ the runs
@dataclass
class Outcome:
    name: str
    seconds: float
    exceptions: list[str]
    alerts: list[str]  # the messages the page showed
    live_payload: bool
    answered: bool  # the server finished the run (a message, the page) rather than timing out or refusing


def key_like(result: RunResult, pattern: str) -> str:
    """The first widget key drawn in ``result`` that matches ``pattern`` (keys carry run ids and presets)."""
    for key in result.widgets:
        if re.fullmatch(pattern, key):
            return key
    raise KeyError(f"no widget like {pattern!r}; drawn: {sorted(result.widgets)[:30]}")


def upload_checkpoint(client: StreamlitClient, name: str, make: Callable[[], bytes]) -> list[RunResult]:
    runs_page = client.open_page("runs")
    done = [runs_page, client.upload(runs_page, "ckpt.upload", "shared.safetensors", make())]
    if "script" in name:  # the victim opens the attention page and clicks bertviz
        attention = client.open_page("attention")
        bertviz = client.set_value(attention, "attention.section", ["🕸️ bertviz"])
        done += [attention, bertviz]
        SINK_REACHED.append(any("alert(document.title)" in html for html in documents(bertviz)))  # escaped, not absent
    return done


def upload_data(client: StreamlitClient, filename: str, make: Callable[[], bytes]) -> list[RunResult]:
    train = client.open_page("train")
    train = client.set_value(train, "data.source", "Upload a file")
    return [train, client.upload(train, "data.upload", filename, make())]


def paste(page: str, pattern: str) -> Callable[[StreamlitClient], list[RunResult]]:
    def go(client: StreamlitClient) -> list[RunResult]:
        shown = client.open_page(page)
        return [shown, client.set_value(shown, key_like(shown, pattern), PASTE)]
    return go


def paste_into_lstm(client: StreamlitClient) -> list[RunResult]:
    shown = client.open_page("lstm")
    shown = client.set_value(shown, key_like(shown, r"lstm\.source\..*"), "My own text")
    return [shown, client.set_value(shown, key_like(shown, r"lstm\.text\..*"), PASTE)]


def with_a_run(then: Callable[[StreamlitClient, RunResult], list[RunResult]]) -> Callable:
    """Open the lecture LSTM from Home (instant), then do ``then`` on the Train page."""
    def go(client: StreamlitClient) -> list[RunResult]:
        home = client.open_page()
        opened = client.click(home, "home.asset.lecture_lstm")
        train = client.open_page("train")
        return [home, opened, train, *then(client, train)]
    return go


def form_maxima(client: StreamlitClient) -> list[RunResult]:
    train = client.open_page("train")
    train = client.set_value(train, "data.task", "Reverse")
    train = client.set_value(train, key_like(train, r"data\.seq_len\..*"), 512.0)
    return [train, client.set_value(train, "data.n_train", 200_000.0)]


def absurd_learning_rate(client: StreamlitClient) -> list[RunResult]:
    train = client.open_page("train")
    train = client.set_value(train, "data.task", "Reverse")
    lr = key_like(train, r"model\..*\.lr")
    refused = client.set_value(train, lr, 1e6)  # refused with a message: Create is not drawn
    train = client.set_value(refused, lr, 100.0)  # the most the form takes: this run diverges
    train = client.click(train, "train.create")
    started = client.click(train, "controls.start")
    time.sleep(3)
    return [refused, train, started, client.open_page("train")]


def huge_step(client: StreamlitClient, train: RunResult) -> list[RunResult]:
    train = client.set_value(train, "controls.step_size", 1000.0)
    stepped = client.click(train, "controls.step")
    return [stepped, client.click(stepped, "controls.pause"), client.open_page("lstm")]


def markdown_run_name(client: StreamlitClient) -> list[RunResult]:
    train = client.open_page("train")
    train = client.set_value(train, "train.run_name", "![x](http://example.invalid/x.png) <img src=x onerror=1>")
    created = client.click(train, "train.create")
    return [created, client.open_page("runs"), client.open_page("lstm")]


def link(page: str, query: str) -> Callable[[StreamlitClient], list[RunResult]]:
    def go(client: StreamlitClient) -> list[RunResult]:
        client.query_string = query
        first = client.rerun(page_name=page)  # a fresh tab opened at the link's page, as a browser opens a URL
        client.query_string = ""
        return [first, client.open_page(page)]
    return go


FORGED_RECIPE = base64.urlsafe_b64encode(b"x\x9c" + os.urandom(200)).decode()
ACTIONS: dict[str, Callable[[StreamlitClient], list[RunResult]]] = {
    **{name: partial(upload_checkpoint, name=name, make=make) for name, make in CHECKPOINTS.items()},
    **{name: partial(upload_data, filename=f, make=make) for name, (f, make) in DATA_FILES.items()},
    "paste: 10,000 words on Attention": paste("attention", r"attention\.text\..*"),
    "paste: 10,000 words on Inside the RNN": with_a_run(lambda c, _: paste_into_lstm(c)),
    "paste: 10,000 words on Tokens": paste("tokens", "tokens.text"),
    "paste: 10,000 words on Forward pass": paste("forward", r"forward\.text.*"),
    "form: reverse 200,000 × 512 tokens": form_maxima,
    "form: learning rate 10⁶, then 100 (a diverging run)": absurd_learning_rate,
    "form: Step × 1,000 then Pause": with_a_run(huge_step),
    "form: Markdown and HTML as a run name": markdown_run_name,
    "link: a model that does not exist": link("attention", "model=asset:nope&head=99&layer=-3"),
    "link: a forged recipe at step 10⁹": link("lstm", f"model=recipe:{FORGED_RECIPE}&step=1000000000"),
    "link: a recipe cut short": link("circuits", "model=recipe:eJyrVkrOz0vPK&head=a"),
    "link: a 6,000-character text": link("attention", "text=" + "%3Cscript%3E" * 500),
    "link: unknown settings and types": link("positions", "section=nope&d_model=1e99&page=%00"),
}


def documents(result: RunResult) -> list[str]:
    """The HTML a browser would parse for ``result`` (a data: URL's document decoded)."""
    return [base64.b64decode(html.split(";base64,", 1)[1]).decode("utf-8", "replace")
            if html.startswith("data:text/html") and ";base64," in html else html for html in result.html]


def live(result: RunResult) -> bool:
    """Did the payload reach a page as HTML that a browser parses (markup, not escaped text)?"""
    return any(LIVE_PAYLOAD.search(html) for html in documents(result))


def attempt(url: str, name: str, action: Callable[[StreamlitClient], list[RunResult]]) -> Outcome:
    client = StreamlitClient(url, timeout=60)
    start = time.perf_counter()
    try:
        results = action(client)
        return Outcome(name, time.perf_counter() - start, [e for r in results for e in r.exceptions],
                       [a for r in results for a in r.alerts], any(live(r) for r in results),
                       all(r.finished for r in results))
    except urllib.error.HTTPError as err:  # refused at the door (e.g. 413 over server.maxUploadSize)
        return Outcome(name, time.perf_counter() - start, [], [f"HTTP {err.code}"], False, err.code in (400, 413))
    finally:
        client.close()


class Watch:
    """Health-check latency and server memory, sampled in the background."""

    def __init__(self, server: Server):
        self.server = server
        self.worst_health_s = 0.0
        self.rss_peak_gb = server.rss_gb()
        self.window_peak_gb = self.rss_peak_gb  # the peak since new_window()
        self.stopping = False
        self.threads = [threading.Thread(target=self._health, daemon=True),
                        threading.Thread(target=self._memory, daemon=True)]
        for thread in self.threads:
            thread.start()

    def _health(self) -> None:
        while not self.stopping:
            start = time.perf_counter()
            try:
                with urllib.request.urlopen(f"{self.server.url}/_stcore/health", timeout=60):
                    pass
            except OSError:
                pass  # counted by the time it took
            self.worst_health_s = max(self.worst_health_s, time.perf_counter() - start)
            time.sleep(0.2)

    def _memory(self) -> None:
        while not self.stopping:
            rss = self.server.rss_gb()
            self.rss_peak_gb = max(self.rss_peak_gb, rss)
            self.window_peak_gb = max(self.window_peak_gb, rss)
            time.sleep(0.25)

    def new_window(self) -> float:
        """Start measuring one input: returns the server's memory now."""
        self.window_peak_gb = rss = self.server.rss_gb()
        return rss

    def stop(self) -> None:
        self.stopping = True
        for thread in self.threads:
            thread.join(70)


def main() -> None:
    server = Server(PORT, {"HF_HUB_OFFLINE": "1"}, ("--server.enableXsrfProtection", "false"))
    try:
        warm = StreamlitClient(server.url, timeout=120)
        for page in WARM_PAGES:
            warm.open_page(page)  # the idle server: MiniLM loaded and its weights read, every page imported once
        time.sleep(WARM_SETTLE_S)  # start-up's background work (the UMAP warm-up) ends
        warm.close()
        baseline_gb = server.rss_gb()
        watch = Watch(server)
        outcomes = []
        growth_mb = []
        for name, action in ACTIONS.items():
            before_gb = watch.new_window()
            outcome = attempt(server.url, name, action)
            outcomes.append(outcome)
            growth_mb.append((max(watch.window_peak_gb, server.rss_gb()) - before_gb) * 1024)
            print(f"{name}: {outcome.seconds:.1f} s, exceptions {len(outcome.exceptions)}"
                  f"{' ' + outcome.exceptions[0][:120] if outcome.exceptions else ''}, "
                  f"{'answered' if outcome.answered else 'NOT ANSWERED'}"
                  f", server +{growth_mb[-1]:.0f} MB (then {(server.rss_gb() - baseline_gb) * 1024:+.0f} MB over idle)"
                  f" · {' | '.join(a[:110] for a in outcome.alerts) or 'no message'}"
                  f"{', PAYLOAD LIVE' if outcome.live_payload else ''}", flush=True)
        watch.stop()
    finally:
        server.stop()
    report({"inputs_tried": len(outcomes), "exceptions_shown": sum(len(o.exceptions) for o in outcomes),
            "unanswered": sum(not o.answered for o in outcomes),
            "server_unresponsive_s_max": round(watch.worst_health_s, 2),
            "rss_growth_mb_max": round((watch.rss_peak_gb - baseline_gb) * 1024),  # the whole catalogue, caches filled
            "rss_growth_one_input_mb_max": round(max(growth_mb)),
            "script_executed": any(o.live_payload for o in outcomes),
            "bertviz_drew_the_payload": all(SINK_REACHED) and bool(SINK_REACHED),
            "slowest_input_s": round(max(o.seconds for o in outcomes), 1)})


if __name__ == "__main__":
    main()
