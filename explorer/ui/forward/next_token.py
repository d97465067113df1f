"""Forward pass page, section "Next token": the distribution at the last position, reshaped live by temperature,
top-k and top-p (the logits are computed once; the sliders only redraw), and zero- vs few-shot prompts."""

from __future__ import annotations

import streamlit as st
import torch

from explorer.analysis.decoding import LogitsFn, continuation_logprob, next_token_fn, reshape
from explorer.analysis.predictions import lm_next_token
from explorer.figures.forward.next_token import next_token_figure, prompts_figure
from explorer.ui.figure import show_figure
from explorer.ui.forward.subject import Walk
from explorer.ui.plain_text import md_escape
from explorer.ui.state import get_state
from explorer.ui.widget_state import seed

TEMPERATURE = "forward.temperature"
TOP_K = "forward.top_k"
TOP_P = "forward.top_p"
SHOWN = "forward.shown"
ZERO_PROMPT = "forward.prompt.zero"
FEW_PROMPT = "forward.prompt.few"
CANDIDATES = "forward.prompt.candidates"
AS_CHAT = "forward.prompt.chat"
COMPARE = "forward.prompt.compare"
QUESTION = "The plot was dull and the acting was worse."
ZERO_SHOT = f"Review: {QUESTION}\nSentiment:"
FEW_SHOT = ("Review: A delightful, moving film.\nSentiment: positive\n\n"
            "Review: I walked out halfway through.\nSentiment: negative\n\n"
            "Review: Brilliant performances all round.\nSentiment: positive\n\n"
            f"Review: {QUESTION}\nSentiment:")


def is_decoder(walk: Walk) -> bool:
    """Language models that predict the next token: decoder-only transformers, recurrent LMs, pretrained decoders."""
    cfg = walk.model.config
    if walk.run is None:
        return bool(cfg.causal)
    if walk.run.is_recurrent:
        return cfg.head == "lm"
    return cfg.head == "lm" and cfg.causal and not cfg.encoder_decoder


def not_a_decoder(walk: Walk) -> None:
    st.info("Next-token probabilities and decoding need a language model that predicts the next token: a tiny GPT "
            "or a recurrent LM of this session (Train page), SmolLM2 (`make smollm2`, offline afterwards) or GPT-2 "
            "(online). This model is an encoder or classifier" + (" (an encoder-decoder's greedy decoding is on the "
                                                                  "Train page)" if walk.run is not None else "") + ".")


def logits_fn(walk: Walk) -> LogitsFn:
    """The next-token logits of the walk's model (an app model never emits <pad>)."""
    if walk.run is not None:
        return lm_next_token(walk.model)
    return next_token_fn(walk.model, window=walk.model.config.n_ctx)


def last_logits(walk: Walk) -> torch.Tensor:
    """[d_vocab] at the end of the input: one forward pass per input, remembered."""
    return get_state().remember((*walk.key, "forward", "next logits"), lambda: logits_fn(walk)(walk.tokens)[0])


def sampling_settings() -> tuple[float, int, float]:
    """The temperature, top-k and top-p sliders (shared with decoding)."""
    c1, c2, c3 = st.columns(3)
    seed(TEMPERATURE, 1.0)
    temperature = c1.slider("Temperature T", 0.0, 3.0, step=0.05, key=TEMPERATURE,
                            help="softmax(z / T): below 1 sharpens, above 1 flattens, 0 is greedy")
    seed(TOP_K, 0)
    top_k = c2.slider("Top-k (0 = off)", 0, 100, key=TOP_K, help="Keep only the k most likely tokens")
    seed(TOP_P, 1.0)
    top_p = c3.slider("Top-p (1 = off)", 0.05, 1.0, step=0.05, key=TOP_P,
                      help="Keep the smallest set of most likely tokens whose probability reaches p")
    return float(temperature), int(top_k), float(top_p)


def render_next_token(walk: Walk) -> None:
    if not is_decoder(walk):
        not_a_decoder(walk)
        return
    logits = last_logits(walk)
    last = walk.str_tokens[-1]

    @st.fragment
    def distribution() -> None:  # the sliders rerun only this: no model call, the logits are above
        temperature, top_k, top_p = sampling_settings()
        dist = reshape(logits, temperature, top_k, top_p)
        fig = next_token_figure(dist, walk.piece, f"After {last!r}: the next token — {walk.name}")
        show_figure(fig, "forward.next_token", f"{walk.name}_next_token_T{temperature:g}")
        entropy = float(-(dist.reshaped[dist.reshaped > 0].log() * dist.reshaped[dist.reshaped > 0]).sum())
        st.caption(f"{int(dist.kept.sum()):,} of {dist.probs.numel():,} tokens can still be drawn; entropy "
                   f"{entropy:.2f} nats. Bars: what sampling draws from; red marks: the model's own softmax(logits). "
                   "Raise T to flatten the distribution, lower it towards 0 to put all mass on the top token.")

    distribution()
    if walk.run is None:
        _render_prompts(walk)


def _prompt_ids(walk: Walk, prompt: str, as_chat: bool) -> list[int]:
    tokenizer = walk.model.tokenizer
    if as_chat:
        ids = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True,
                                            tokenize=True)
        ids = ids["input_ids"] if hasattr(ids, "keys") else ids  # a BatchEncoding in recent transformers
        return [int(i) for i in (ids[0] if ids and isinstance(ids[0], list) else ids)]
    return walk.model.to_tokens(prompt)[0].tolist()


def _render_prompts(walk: Walk) -> None:
    with st.expander("🎯 Zero-shot vs few-shot: the same question, with and without examples (GPT-2/GPT-3)"):
        st.markdown("A language model can answer a task written into its prompt. With no example (zero-shot) it "
                    "must guess the format; a few solved examples first (few-shot, in-context learning) show it. "
                    "Compare the probability of each answer as the next words.")
        c1, c2 = st.columns(2)
        seed(ZERO_PROMPT, ZERO_SHOT)
        zero = c1.text_area("Zero-shot prompt", key=ZERO_PROMPT, height=200)
        seed(FEW_PROMPT, FEW_SHOT)
        few = c2.text_area("Few-shot prompt", key=FEW_PROMPT, height=200)
        seed(CANDIDATES, " positive, negative")
        raw = st.text_input("Answers to compare (comma-separated; a leading space matters)", key=CANDIDATES)
        chat = getattr(walk.model.tokenizer, "chat_template", None) is not None
        seed(AS_CHAT, False)
        as_chat = st.toggle("Wrap each prompt in the model's chat template (Instruct models)", key=AS_CHAT,
                            disabled=not chat)
        candidates = [c for c in raw.split(",") if c.strip()]
        if not candidates or not zero.strip() or not few.strip():
            st.warning("Write both prompts and at least one answer.")
            return
        key = (walk.subject.key, "forward", "prompts", zero, few, tuple(candidates), as_chat)
        state = get_state()
        if not st.button("Compare the prompts", key=COMPARE) and key not in state.memo:
            return
        fn = logits_fn(walk)

        def compute() -> dict:
            out = {}
            for name, prompt in (("zero-shot", zero), ("few-shot", few)):
                ids = _prompt_ids(walk, prompt, as_chat)[-walk.model.config.n_ctx:]
                out[name] = {"answers": [float(torch.tensor(continuation_logprob(fn, ids, walk.model.tokenizer.encode(
                    c, add_special_tokens=False))).exp()) for c in candidates], "logits": fn(torch.tensor([ids]))[0]}
            return out

        with st.spinner("Reading both prompts…"):
            result = state.remember(key, compute)
        fig = prompts_figure(candidates, {name: r["answers"] for name, r in result.items()},
                             f"p(answer | prompt) — {walk.name}")
        show_figure(fig, "forward.prompts", f"{walk.name}_zero_vs_few_shot")
        columns = st.columns(2)
        for column, (name, r) in zip(columns, result.items()):
            with column:
                fig = next_token_figure(reshape(r["logits"]), walk.piece, f"{name}: the next token", n_shown=12)
                show_figure(fig, f"forward.prompt_{name}", f"{walk.name}_{name}_next_token")
        summary = "; ".join(f"{name}: " + ", ".join(f"{md_escape(repr(c))} {p:.3f}" for c, p in zip(candidates,
                                                                                                 r["answers"]))
                            for name, r in result.items())
        st.caption(f"{summary}. Each answer's probability is that of all its tokens in turn after the prompt.")
