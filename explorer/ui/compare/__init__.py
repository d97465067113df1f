"""The Compare page (views/compare.py): overlaid curves and a results table over chosen runs, the lecture's
sentiment comparison (LSTM, small transformer, pretrained encoder) beside the lecture's table, an n-gram model beside
the language models, and the GloVe-initialisation preset. Draws on explorer.analysis.runs_table, .lecture_table,
.ngram_compare, explorer.training.lecture and .glove_preset."""
