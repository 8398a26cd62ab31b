# Two commands on a fresh machine with Python 3.11+ and pip: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
OUT ?= reports

.PHONY: demo test bench course clean

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "clinic-playbook needs Python 3.11 or newer (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
	@touch $@

## demo: install, run the playbook on the bundled general sample clinic, print the PDF's path
demo: $(INSTALLED)
	$(BIN)/playbook run data_samples/general_clinic --out $(OUT)
	@echo "PDF: $(abspath $(OUT)/general_clinic/report.pdf)"

## test: install, then the test suite on two workers (the files sharing whole-clinic runs on one of them)
test: $(INSTALLED)
	$(BIN)/python -m pytest -q -n 2

## bench: time a run of each sample clinic, stage by stage
bench: $(INSTALLED)
	$(BIN)/python benchmarks/run_samples.py

## course: the course site in $(OUT)/course/ (open index.html): the chapters as run on the general sample, the
## trainer's guide, the answer key; nbconvert and pandoc only, no Node
course: $(INSTALLED)
	$(BIN)/playbook run data_samples/general_clinic --out $(OUT) --course
	$(BIN)/python -m playbook.course_site $(OUT)/course --executed $(OUT)/general_clinic --key data_samples/general_clinic

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
