"""Figures of one forward pass: the walk's diagram with shapes, one head's matrices, Add & Norm, the feed-forward
neurons, the logit lens, the next-token distribution and decoding."""
