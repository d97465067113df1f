"""The Fine-tuning page (views/finetune.py): what fine-tuning changed in a pretrained encoder (heads, weights, LoRA's
spectra, sentence embeddings), filling in a [MASK], and pre-training an encoder here before fine-tuning it.
Draws on explorer.analysis.finetune_diff, .fill_mask, explorer.training.finetune_run, .pretraining, figures.finetune."""
