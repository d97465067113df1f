"""Sequence Model Explorer: the Streamlit entry point (pages come in the next step)."""

import streamlit as st

st.set_page_config(page_title="Sequence Model Explorer", page_icon="🔬", layout="wide")
st.title("🔬 Sequence Model Explorer")
st.write(
    "Train small sequence models (Elman RNN, GRU, LSTM, small transformers) and look inside them: "
    "gates step by step, attention heads, QK/OV circuits, positional encodings and embeddings."
)
