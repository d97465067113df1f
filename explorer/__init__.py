"""Sequence Model Explorer: the engine (models, data, training, analysis, figures) and its Streamlit glue (ui).

Importing the package sets one process-wide option before torch loads (it is read when MKL starts): MKL's own
memory manager keeps the buffers of large matrix products for reuse, ~40 MB after one 512-token MiniLM pass that
never return to the system; on a shared server that is memory every other session lacks, for no measurable speed
(training 1,042 vs 1,030 steps/s, MiniLM on 512 tokens as fast).
"""

import os

os.environ.setdefault("MKL_DISABLE_FAST_MM", "1")
