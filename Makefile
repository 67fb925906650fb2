# The two commands a newcomer needs: `make run` and `make test`. Both set up .venv first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# WeasyPrint's native libraries, from Debian's packages.
NATIVE_LIBS := libpango-1.0-0 libpangoft2-1.0-0

# The suite runs in parallel (pytest-xdist), one worker per core unless told otherwise
# (make test TEST_WORKERS=4; 0 runs it in one process, as pdb needs). A module's tests
# stay in one worker, so the worlds a module builds once (tests/worlds.py) are built once;
# each worker has its own temporary files and, on PostgreSQL, its own scratch database
# (tests/conftest.py).
TEST_WORKERS ?= auto
PYTEST := $(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile

.PHONY: run test suite lint bench check-native migrations clean browser-deps

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 (or run make PYTHON=/path/to/python3.11)"; exit 2; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@rm -f $(VENV)/.installed-*; touch $@

check-native:
	@missing=""; for lib in $(NATIVE_LIBS); do \
	  so="$$(echo $$lib | sed 's/-0$$//').so.0"; \
	  /sbin/ldconfig -p 2>/dev/null | grep -q "$$so" || missing="$$missing $$lib"; done; \
	if [ -n "$$missing" ]; then \
	  echo "error: WeasyPrint needs Debian packages that are missing:$$missing"; \
	  echo "install them with:  sudo apt-get install -y$$missing fonts-dejavu-core"; exit 2; fi

run: check-native $(STAMP)
	$(BIN)/invoicebot serve --demo

test: check-native $(STAMP)
	$(BIN)/ruff check bot vault notifier tests
	$(BIN)/mypy
	$(PYTEST)

# The test suite alone, as `make test` runs it: .ci/run uses it for the PostgreSQL run
# (INVOICEBOT_TEST_DATABASE_URL=postgres://... make suite).
suite: check-native $(STAMP)
	$(PYTEST)

# Benchmark (prints figures, asserts nothing): email latency at 1M invoices + PDF renders/s.
# Options: make bench ARGS="--rebuild --pg postgres://postgres@127.0.0.1:5432/postgres"
# (python -m tests.bench --help lists them). The built vault is cached in var/bench/.
bench: check-native $(STAMP)
	$(BIN)/python -m tests.bench $(ARGS)

# Debian's Chromium for the account page's browser tests (tests/test_account_browser.py;
# without it they skip and say so). Playwright drives it with executable_path: no download.
browser-deps:
	@command -v chromium >/dev/null || sudo apt-get install -y chromium chromium-driver

# Regenerate the schema migration after changing vault/models/.
migrations: $(STAMP)
	$(BIN)/python -m vault.makemigrations

clean:
	rm -rf $(VENV) var
