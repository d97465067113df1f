"""Figures of the Positions page, one module per family (sinusoidal, tables, rotary, experiment)."""
