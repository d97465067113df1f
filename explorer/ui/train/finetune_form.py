"""The Train page's form for fine-tuning a pretrained encoder on classification data: the base model, the method
(with how many parameters each trains), pooling, LoRA's rank, scale and projections, and the training settings.

Nothing is copied until the button is pressed, and then only after the memory guard agreed; the shared pretrained
model is never trained (the run trains its own copy of what it changes).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from explorer.data.dataset import TaskData
from explorer.models.finetune import LORA_TARGETS, METHOD_TITLES, METHODS, FinetuneConfig
from explorer.models.finetune.classifier import on_classification_path
from explorer.models.finetune.config import POOLINGS
from explorer.models.pretrained import MINILM
from explorer.models.pretrained.model import PretrainedModel
from explorer.training.config import TrainConfig
from explorer.training.finetune_budget import trained_parameter_estimate
from explorer.training.finetune_run import DEFAULT_LR, default_train_config, new_finetune_run
from explorer.training.finetune_trainer import check_finetune
from explorer.ui.pretrained_loader import get_pretrained, loaded_model
from explorer.ui.state import NoRoom, get_state
from explorer.ui.widget_state import seed, seed_choice, seed_many

KIND = "train.kind"
OWN, FINETUNE = "🧪 A model of this app (from scratch, or pre-train one)", "🎯 Fine-tune a pretrained encoder"
BASE = "train.finetune.base"
METHOD = "train.finetune.method"
POOLING = "train.finetune.pooling"
RANK, ALPHA, TARGETS = "train.finetune.rank", "train.finetune.alpha", "train.finetune.targets"
MAX_LEN, DROPOUT = "train.finetune.max_len", "train.finetune.dropout"
LR, BATCH, STEPS, SEED = "train.finetune.lr", "train.finetune.batch", "train.finetune.steps", "train.finetune.seed"
NAME, CREATE = "train.finetune.name", "train.finetune.create"


def wants_finetune(data: TaskData) -> bool:
    """For classification data: a choice between the app's own models and fine-tuning; True for the latter."""
    if data.kind != "classification":
        return False
    seed_choice(KIND, [OWN, FINETUNE])
    return st.radio("What to train", [OWN, FINETUNE], key=KIND, horizontal=True) == FINETUNE


def _bases() -> list[str]:
    """MiniLM (offline) and the other pretrained models opened in this session (encoders are checked on load)."""
    return [MINILM, *[n for n in get_state().pretrained if n != MINILM]]


def _total(base: PretrainedModel) -> int:
    return sum(p.numel() for n, p in base.named_parameters() if on_classification_path(n))


def method_table(base: PretrainedModel, config: FinetuneConfig) -> pd.DataFrame:
    """What each method trains on ``base``: a count and a share of the model (the head included)."""
    total = _total(base)
    rows = []
    def estimate(method: str) -> int:
        return trained_parameter_estimate(base.config, FinetuneConfig(**{**_fields(config), "method": method}))

    for method in METHODS:
        trained = estimate(method)
        head = estimate("head" if method == "head" else "probe")
        whole = total + head + (trained - head if method == "lora" else 0)  # LoRA's adapters are new parameters
        rows.append({"method": METHOD_TITLES[method], "trains": f"{trained:,}",
                     "share of the model": f"{min(1.0, trained / whole):.3%}"})
    return pd.DataFrame(rows)


def _fields(config: FinetuneConfig) -> dict:
    return {k: v for k, v in config.to_dict().items() if k != "kind"}


def _config(base: PretrainedModel, data: TaskData) -> FinetuneConfig | None:
    seed_choice(METHOD, METHODS, "lora")
    c1, c2 = st.columns([3, 2])
    method = c1.radio("Method", METHODS, format_func=METHOD_TITLES.get, key=METHOD)
    seed_choice(POOLING, list(POOLINGS))
    pooling = c2.radio("Pooling", list(POOLINGS), format_func=lambda p: POOLINGS[p], key=POOLING,
                       help="MiniLM was trained as a sentence encoder on the mean of its tokens; BERT's fine-tuning "
                            "recipe reads the [CLS] token.")
    values = {"base": base.config.name, "method": method, "n_classes": data.n_classes, "pooling": pooling}
    c1, c2, c3, c4 = st.columns(4)
    if method == "lora":
        seed(RANK, 8)
        seed(ALPHA, 16.0)
        seed_many(TARGETS, list(LORA_TARGETS), ["q", "v"])
        values["lora_r"] = int(c1.number_input("Rank r", min_value=1, max_value=256, step=1, key=RANK))
        values["lora_alpha"] = float(c2.number_input("Scale α", min_value=0.5, max_value=4096.0, step=1.0, key=ALPHA,
                                                     help="ΔW = (α/r)·B·A"))
        values["lora_targets"] = c3.multiselect("Projections", list(LORA_TARGETS), format_func=LORA_TARGETS.get,
                                                key=TARGETS, help="LoRA's paper adapts W_Q and W_V")
    seed(MAX_LEN, 64)
    seed(DROPOUT, 0.1)
    values["max_len"] = int(c4.number_input("Max tokens per text", min_value=4, max_value=512, step=8, key=MAX_LEN))
    values["dropout"] = float(st.slider("Dropout on the pooled vector", 0.0, 0.9, step=0.05, key=DROPOUT))
    try:
        return FinetuneConfig(**values)
    except ValueError as err:
        st.error(f"⚠️ {err}")
        return None


def _train_config(method: str) -> TrainConfig | None:
    defaults = default_train_config(method)
    seed(f"{LR}.{method}", DEFAULT_LR[method])
    seed(BATCH, defaults.batch_size)
    seed(STEPS, defaults.max_steps)
    seed(SEED, 0)
    c1, c2, c3, c4 = st.columns(4)
    lr = float(c1.number_input("Learning rate", min_value=0.0, max_value=100.0, format="%.2g", key=f"{LR}.{method}",
                               help="Each method has its own default: full fine-tuning needs small steps"))
    batch = int(c2.number_input("Batch size", min_value=1, max_value=4096, step=8, key=BATCH))
    steps = int(c3.number_input("Step target", min_value=1, max_value=100_000, step=50, key=STEPS))
    run_seed = int(c4.number_input("Seed", min_value=0, max_value=10**6, step=1, key=SEED))
    try:
        return default_train_config(method, steps, lr=lr, batch_size=batch, seed=run_seed)
    except ValueError as err:
        st.error(f"⚠️ {err}")
        return None


def render_finetune_form(data: TaskData, on_created: Callable[[], None]) -> None:
    """The whole form; ``on_created`` runs after a run was added and started (e.g. to show it)."""
    seed_choice(BASE, _bases())
    name = st.selectbox("Pretrained encoder", _bases(), key=BASE,
                        help="Open other encoders (bert-base-uncased, distilbert…, online) on the Attention page")
    base, error = get_pretrained(name)
    if base is None:
        st.error(error)
        return
    st.caption(f"{base.config.describe()} · {_total(base):,} parameters")
    config = _config(base, data)
    if config is None:
        return
    st.dataframe(method_table(base, config), hide_index=True, width="stretch")
    with st.expander("Training settings"):
        train = _train_config(config.method)
    if train is None:
        return
    problem = None
    try:
        check_finetune(base, config, train, data)
    except ValueError as err:
        problem = str(err)
        st.error(f"⚠️ {problem}")
    default_name = f"{base.config.name} · {config.method} · {data.name}"
    c1, c2 = st.columns([3, 1])
    c1.text_input("Run name", key=NAME, placeholder=default_name)
    c2.button("▶️ Fine-tune", key=CREATE, type="primary", disabled=problem is not None, width="stretch",
              on_click=_create, args=(data, config, train, default_name, on_created))


def _create(data: TaskData, config: FinetuneConfig, train: TrainConfig, default_name: str,
            on_created: Callable[[], None]) -> None:
    state = get_state()
    if problem := state.room_for(1):
        state.notice = problem
        return
    name = state.unique_name((st.session_state.get(NAME) or default_name).strip()[:80])
    try:
        run = new_finetune_run(name, data, loaded_model(config.base), config, train, preset="Fine-tune",
                               seed=train.seed)
        state.add_run(run)
    except (ValueError, RuntimeError, MemoryError, NoRoom) as err:
        state.notice = f"Could not start the run: {err}"
        return
    run.trainer.start()
    on_created()
