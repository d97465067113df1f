"""The Circuits page (views/circuits.py): QK and OV circuits of one head, the whole model, the induction lab.
Sections: head (factored W_QK, W_OV), whole_model (copying, composition, logit attribution), lab (induction heads).
Draws on explorer.analysis.circuits, .factored, .attribution, .induction and explorer.figures.circuits."""
