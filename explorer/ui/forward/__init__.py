"""The Forward pass page (views/forward.py): one input through a transformer, step by step — the walk with shapes,
one head's arithmetic, Add & Norm, the feed-forward neurons, the logit lens, next-token probabilities and decoding.
Draws on explorer.analysis.forward (record, head, norm, neurons, logit_lens, lookup) and explorer.analysis.decoding."""
