# Everything starts from nothing: `make demo` and `make test` create .venv and install.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint fmt bench fuzz clean install

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

FLAGSHIP := examples/istanbul_2022.foedus
SCENARIO := examples/istanbul_2022.events.jsonl
AS_OF    := 2022-10-15T00:00:00+03:00

# The seed's guarantee system, checked, described, run on its scenario and reported.
demo: $(STAMP)
	$(BIN)/foedus check $(FLAGSHIP)
	$(BIN)/foedus describe $(FLAGSHIP)
	$(BIN)/foedus run $(FLAGSHIP) $(SCENARIO) --as-of $(AS_OF)
	$(BIN)/foedus explain $(FLAGSHIP) $(SCENARIO) consult/e17/CN --as-of $(AS_OF)
	$(BIN)/foedus explain $(FLAGSHIP) $(SCENARIO) consult --as-of $(AS_OF)
	$(BIN)/foedus explain $(FLAGSHIP) $(SCENARIO) neutrality --as-of $(AS_OF)
	mkdir -p out
	$(BIN)/foedus report $(FLAGSHIP) $(SCENARIO) --as-of $(AS_OF) -o out/istanbul_2022.html

test: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/foedus fmt --check examples
	$(BIN)/pytest -n 2

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/language.py && $(BIN)/python bench/engine.py

# The command under 100,000 hostile inputs (tests/fuzz/harness.py); reproducers in fuzz-out/.
fuzz: $(STAMP)
	$(BIN)/python bench/fuzz.py --cases 100000 --seed 1 --jobs 2 --out fuzz-out

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .hypothesis .mypy_cache
