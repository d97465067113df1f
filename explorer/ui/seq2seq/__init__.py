"""Seq2seq & attention page: the bottleneck of a recurrent encoder–decoder measured against input length, and the
alignment its attention learns beside a transformer's cross-attention. Draws on explorer/training/bottleneck.py,
explorer/analysis/alignment.py and explorer/figures/seq2seq.py."""
