"""The Inside-the-RNN page (views/lstm.py): an Elman RNN, GRU or LSTM stepped through token by token.
Sections: step and whole sequence (gates), units as readers, reading over time, gradients, compare cells.
Draws on explorer.analysis.gates, .unit_search, .readout, .gradients and explorer.training.run_selection."""
