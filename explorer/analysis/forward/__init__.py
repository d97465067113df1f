"""One forward pass, step by step: what a transformer does to a text between its tokens and its next-token
probabilities (record, one head's arithmetic, Add & Norm, the feed-forward layer, the logit lens)."""
