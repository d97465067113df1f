"""The Your-runs page (views/runs.py): every run of the session in one place, with what it holds in memory.
Rename, make current, save, download or close a run (closing asks first); the saved checkpoints; uploads.
Draws on explorer.training.footprint and explorer.analysis.runs_table; checkpoints through explorer/ui/checkpoints."""
