"""The Embeddings page (views/embeddings.py): token, word, contextual and sentence embeddings in 2-D or 3-D.
Sections: trained (W_E across snapshots), words (GloVe, MiniLM), context (a word layer by layer), sentences.
Draws on explorer.analysis.projection, .embeddings, .word_vectors, .contextual and explorer.figures.embeddings."""
