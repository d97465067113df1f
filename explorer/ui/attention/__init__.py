"""The Attention page (views/attention.py): every layer and head of a transformer on a text the user chooses.
Sections: heads (summaries and one head), grid, bertviz, compare (two inputs or two models), why √d_k.
Draws on explorer.analysis.attention, .bertviz_offline and explorer.figures.attention."""
