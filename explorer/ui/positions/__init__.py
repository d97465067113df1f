"""The Positions page (views/positions.py): sinusoidal, learned and rotary position encodings.
Sections: sinusoid, tokens (adding positions), learned, rotary, offsets and experiment (what positions do).
Draws on explorer.analysis.positions, explorer.models.positional and explorer.training.position_experiment."""
