"""The Tokens page (views/tokens.py): the same text through the character, word, WordPiece and BPE tokenizers, a BPE
trained live on a corpus (its merges in order, the token count falling), and one-hot × W_E = a row of W_E.
Draws on explorer.analysis.tokenization and explorer.data.bpe."""
