"""Home: what each page shows, and a one-click start."""

import streamlit as st

from explorer.training.assets import ASSETS, is_available
from explorer.ui.opened import remember_opened, render_opened
from explorer.ui.quickstart import QUICK_STARTS, asset_button, room_message, start_quick
from explorer.ui.state import get_state

st.title("🔬 Sequence Model Explorer")
st.markdown(
    "Train small sequence models and look inside them while they learn — the RNNs, LSTMs, GRUs and "
    "transformers of the course, with the course's notation."
)

st.subheader("Start in one click")
if problem := room_message(1):
    st.warning(problem)
cols = st.columns(len(QUICK_STARTS))
for col, (key, (title, _spec, preset)) in zip(cols, QUICK_STARTS.items()):
    if col.button(f"▶️ {title}", key=f"home.quick.{key}", width="stretch", type="primary", disabled=problem is not None,
                  help=f"{preset}: trains live from its seed (you can pause, step and slow it down)"):
        start_quick(get_state(), key)
        st.switch_page("views/train.py")

st.subheader("Open a trained model (instant)")
st.caption("Ready-trained models that ship with the app, with their training curves and snapshots: open one and "
           "look inside at once, or train it further.")
render_opened()
available = [key for key in ASSETS if is_available(key)]
for row in range(0, len(available), 3):
    cols = st.columns(3)
    for col, key in zip(cols, available[row:row + 3]):
        with col:
            asset_button((key,), f"home.asset.{key}", f"⚡ {ASSETS[key].short}", on_open=remember_opened)
            st.caption(ASSETS[key].about)

st.subheader("The pages")
st.markdown(
    """
- **🏋️ Train** — pick data (generated tasks, Shakespeare, movie reviews, your own file) and a model
  (the lecture's Keras LSTM, GRU, Elman RNN, tiny GPT, encoder classifier, encoder-decoder), press Start and
  watch the loss fall; sample text or check predictions; save and load checkpoints.
- **⚖️ Compare runs** — overlay the curves of several runs and reproduce the lecture's sentiment comparison:
  an LSTM, a small transformer and a fine-tuned pretrained encoder, beside the lecture's table; an n-gram model's
  perplexity and samples beside your language models; random vs GloVe embeddings.
- **🔁 Inside the RNN** — step through an input token by token and watch every gate (fₜ, iₜ, C̃ₜ, oₜ), the cell
  state and the hidden state (of an encoder–decoder's two sides too); find units that count brackets; see how much
  of the gradient reaches the first token in an Elman RNN, a GRU, an LSTM and a transformer, and make an Elman RNN
  explode without clipping and recover with it.
- **🔤 Tokens** — the same text through character, word, WordPiece (MiniLM) and BPE (SmolLM2) tokenizers, a BPE
  vocabulary learned live (its merges in order, the token count falling), and one-hot × W_E = a row of W_E.
- **🧮 Forward pass** — one sentence through a transformer with every shape: Q, K, V, QKᵀ/√d_k, the mask, the
  softmax row by row, A·V, the concatenation and W_O; Add & Norm, the feed-forward neurons, the logit lens, the
  next-token distribution under temperature, top-k and top-p, and greedy, sampled or beam-search decoding.
- **🔀 Seq2seq & attention** — a GRU encoder–decoder without and with attention (Bahdanau) and a transformer, trained
  in one click on reverse: exact match against input length (the bottleneck) and the alignment each output step
  reads, beside the transformer's cross-attention.
- **👀 Attention** — every layer and head of your transformers and of MiniLM (offline): patterns, raw scores,
  per-head summaries that find previous-token and [SEP] heads, bertviz views, long inputs, why we divide by √d_k.
- **🔌 Circuits** — the QK and OV circuits of each head (Elhage et al. 2021), copying and composition scores, and
  a lab where a two-layer attention-only model grows induction heads while you watch.
- **📍 Positions** — sinusoidal, learned and rotary encodings: what they look like, the properties they need,
  and what a model loses without them.
- **🗺️ Embeddings** — PCA/UMAP/t-SNE maps of a model's embeddings as it trains, GloVe and MiniLM word vectors,
  analogies, and contextual embeddings layer by layer.
- **🎯 Fine-tuning** — adapt MiniLM to sentiment (linear probe, head only, BitFit, LoRA, full) and see what
  changed: the heads that moved, every weight, LoRA's low rank, sentence embeddings before and after; pre-train
  an encoder here with masked LM, fill in a [MASK], and measure what pre-training is worth against a twin
  trained from scratch.

Every figure has an **⬇️ Export** button (PNG, SVG, HTML); switch on the slide theme in the sidebar for
16:9 figures with large type. Everything runs offline on a laptop CPU.
"""
)
