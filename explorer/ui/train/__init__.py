"""The Train page (views/train.py): choose data and a model, train live, read what it does, keep checkpoints.
Sections: data_picker and model_form (the new-run form), controls and curves (live training), outputs, checkpoints.
Draws on explorer.training (runs, presets, trainer, checkpoints), explorer.analysis.predictions, figures.training."""
