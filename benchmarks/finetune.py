"""Pre-train, then fine-tune: MiniLM fine-tuned five ways, the lecture's from-scratch models, and an encoder of the
app's own pre-trained with masked LM (and next token) against its from-scratch twin — all on Pang & Lee's
movie-review sentences (downloaded once from PyPI, then offline), one torch thread, the validation split (400
sentences never trained on) as the held-out set.

- MiniLM (all-MiniLM-L6-v2): each method with its default settings (explorer/training/finetune_run.py: AdamW,
  batch 32, evaluated every 25 steps) trains for TIME_BUDGET_S seconds (wall time, the evaluations included).
  Reported: the best held-out accuracy over the evaluations and its step (``…_accuracy``, as the Compare page's
  table; a maximum over a dozen noisy evaluations of 400 sentences, so slightly optimistic), the last one
  (``…_last_accuracy``), seconds, seconds until 80 % was first reached, the share of parameters trained.
- The lecture's LSTM and small transformer, as the Compare page trains them (600 steps, batch 64).
- Masked LM: the "Masked-LM encoder" preset pre-trains on the Pang & Lee full reviews as raw text (another source
  than the sentences: no test sentence is seen) for PRETRAIN_STEPS (at most PRETRAIN_BUDGET_S), then the classifier
  from its weights and the same classifier from scratch train alike (600 steps); the same for the next-token model
  of the same size.

The CPU may be shared with other work: the figures are indicative. Goals (issue 16): LoRA and full ≥ 80 % within
5 minutes each, LoRA within 2 points of full, every fine-tuned MiniLM above both from-scratch models, BitFit
< 0.2 % of the parameters, LoRA r=8 < 1 %.

Last line: {"lora_accuracy": …, "full_accuracy": …, "bitfit_accuracy": …, "lora_seconds": …, "full_seconds": …,
"lora_trainable_fraction": …, "bitfit_trainable_fraction": …, "scratch_best_accuracy": …,
"mlm_pretrained_accuracy": …, "mlm_scratch_accuracy": …, …}
"""

from __future__ import annotations

import argparse
import time

import _common  # noqa: F401  (import path)
import torch
from _common import report

from explorer.analysis.runs_table import best_validation
from explorer.data.corpora import fetch_corpus, load_corpus
from explorer.models.finetune import FinetuneConfig, trainable_fraction
from explorer.models.pretrained import MINILM, load_pretrained
from explorer.training.finetune_run import default_train_config, new_finetune_run
from explorer.training.lecture import VOCAB, comparison_configs
from explorer.training.presets import MLM_PRESET, NEXT_TOKEN_PRESET, PRESETS
from explorer.training.pretraining import fine_tune_pair
from explorer.training.run import Run, new_run

TIME_BUDGET_S = 300.0
PRETRAIN_STEPS = 3000  # the presets' step target: about 12 passes over the reviews' ~1 M words
PRETRAIN_BUDGET_S = 1200.0  # a cap for a busy machine
CHUNK_S = 10.0


def train(run: Run, budget_s: float, label: str) -> dict[str, float | int | None]:
    """Train until the step target or the time budget; the best held-out accuracy, when it was reached, and when
    80 % was first reached."""
    trainer = run.trainer
    trainer.start()
    seconds, seen, reached_80 = 0.0, 0, None
    while trainer.is_running and seconds < budget_s:
        seconds += trainer.step(time_budget_s=min(CHUNK_S, budget_s - seconds)).seconds
        for row in trainer.val_history[seen:]:
            print(f"{label:>24} step {row['step']:5d} {seconds:6.1f}s held-out {row['val_accuracy']:.3f} "
                  f"loss {row['val_loss']:.3f}", flush=True)
            if reached_80 is None and row["val_accuracy"] >= 0.8:
                reached_80 = round(seconds, 1)
        seen = len(trainer.val_history)
    if trainer.status == "diverged":
        print(f"{label}: {trainer.message}")
    if not trainer.val_history or trainer.val_history[-1]["step"] != trainer.step_count:
        trainer.val_history.append({"step": trainer.step_count, **trainer.evaluate()})
    best = best_validation(run)
    return {"accuracy": round(best[0], 4), "best_step": best[1], "last_accuracy": round(
        trainer.val_history[-1]["val_accuracy"], 4), "steps": trainer.step_count, "seconds": round(seconds, 1),
        "seconds_to_80": reached_80}


def minilm(methods: list[str], budget_s: float, lr: float | None) -> dict[str, float | int | None]:
    data = load_corpus("movie_sentences", mode="word", max_vocab=VOCAB, max_len=60)
    base = load_pretrained(MINILM)
    out: dict[str, float | int | None] = {}
    for method in methods:
        overrides = {"lr": lr} if lr else {}
        run = new_finetune_run(f"MiniLM {method}", data, base, FinetuneConfig(base=MINILM, method=method),
                               default_train_config(method, max_steps=100_000, **overrides))
        result = train(run, budget_s, f"MiniLM {method}")
        out.update({f"{method}_{key}": value for key, value in result.items()})
        out[f"{method}_trainable_fraction"] = round(trainable_fraction(run.model), 6)
    return out


def lecture() -> dict[str, float]:
    data = load_corpus("movie_sentences", mode="word", max_vocab=VOCAB, max_len=60)
    out = {}
    for label, (model_cfg, train_cfg) in comparison_configs(data).items():
        result = train(new_run(label, data, model_cfg, train_cfg, preset=label), 10_000, label)
        key = "lstm" if label == "LSTM" else "transformer"
        out.update({f"scratch_{key}_accuracy": result["accuracy"], f"scratch_{key}_best_step": result["best_step"],
                    f"scratch_{key}_last_accuracy": result["last_accuracy"]})
    out["scratch_best_accuracy"] = max(out["scratch_lstm_accuracy"], out["scratch_transformer_accuracy"])
    return out


def pretrain_then_finetune(preset: str, key: str, steps: int, budget_s: float) -> dict[str, float | int]:
    text = load_corpus("movie_reviews", mode="word", max_vocab=VOCAB, as_text=True)
    model_cfg, train_cfg = PRESETS[preset].build(text)
    train_cfg.max_steps = steps
    pretrained = new_run(preset, text, model_cfg, train_cfg, preset=preset)
    trainer = pretrained.trainer
    trainer.start()
    seconds = 0.0
    while trainer.is_running and seconds < budget_s:
        seconds += trainer.step(time_budget_s=min(CHUNK_S, budget_s - seconds)).seconds
    last = trainer.val_history[-1] if trainer.val_history else {}
    print(f"{preset}: {trainer.step_count} steps in {seconds:.0f}s, held-out loss {last.get('val_loss', 0):.3f}, "
          f"token accuracy {last.get('val_accuracy', 0):.3f}", flush=True)
    sentences = load_corpus("movie_sentences", mode="word", max_vocab=VOCAB, max_len=60)
    tuned, scratch = fine_tune_pair(pretrained, sentences, ("pre-trained", "scratch"))
    a, b = train(tuned, 10_000, f"{key} pre-trained"), train(scratch, 10_000, f"{key} scratch")
    return {f"{key}_pretrain_steps": trainer.step_count, f"{key}_pretrain_seconds": round(seconds, 1),
            f"{key}_pretrain_val_loss": round(last.get("val_loss", float("nan")), 3),
            f"{key}_pretrained_accuracy": a["accuracy"], f"{key}_scratch_accuracy": b["accuracy"],
            f"{key}_pretrained_last_accuracy": a["last_accuracy"], f"{key}_scratch_last_accuracy": b["last_accuracy"],
            f"{key}_gain": round(a["accuracy"] - b["accuracy"], 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--methods", default="lora,full,bitfit,head,probe", help="MiniLM methods, comma-separated")
    parser.add_argument("--budget", type=float, default=TIME_BUDGET_S, help="seconds of training per method")
    parser.add_argument("--pretrain-steps", type=int, default=PRETRAIN_STEPS, help="pre-training steps (the preset's)")
    parser.add_argument("--pretrain-budget", type=float, default=PRETRAIN_BUDGET_S, help="…or at most these seconds")
    parser.add_argument("--lr", type=float, default=None, help="override every method's learning rate")
    parser.add_argument("--skip", default="", help="comma-separated: minilm, lecture, mlm, next")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    fetch_corpus("movie_sentences")  # one download (both Pang & Lee files), then offline
    skip = set(filter(None, args.skip.split(",")))
    start = time.perf_counter()
    figures: dict[str, float | int | str | None] = {"threads": args.threads}
    if "minilm" not in skip:
        figures.update(minilm(args.methods.split(","), args.budget, args.lr))
    if "lecture" not in skip:
        figures.update(lecture())
    if "mlm" not in skip:
        figures.update(pretrain_then_finetune(MLM_PRESET, "mlm", args.pretrain_steps, args.pretrain_budget))
    if "next" not in skip:
        figures.update(pretrain_then_finetune(NEXT_TOKEN_PRESET, "next_token", args.pretrain_steps,
                                              args.pretrain_budget))
    figures["total_seconds"] = round(time.perf_counter() - start, 1)
    report(figures)


if __name__ == "__main__":
    main()
