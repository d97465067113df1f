"""Compare page additions (issue 18): an n-gram language model's perplexity and samples beside the session's neural
language models, and the GloVe-initialisation preset overlaid. Draw on explorer/analysis/ngram_compare.py,
explorer/models/ngram.py and explorer/training/glove_preset.py; views/compare.py calls them at its end."""
