"""Position analyses: what an encoding must satisfy (sinusoidal), learned tables (tables), rotary scores (rotary),
attention by offset (offsets), the inputs these run on (inputs) and SmolLM2's rotary settings read from its GGUF file
(gguf). Used by the Positions page (explorer/ui/positions) and its benchmark."""
