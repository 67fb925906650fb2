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

.PHONY: run test suite lint bench check-native migrations clean browser-deps catalogues catalogues-compile

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

run: check-native $(STAMP) catalogues-compile
	$(BIN)/invoicebot serve --demo

test: check-native $(STAMP) catalogues-compile
	$(BIN)/ruff check bot vault notifier tests
	$(BIN)/mypy
	$(PYTEST)

# The test suite alone, as `make test` runs it: .ci/run uses it for the PostgreSQL run
# (INVOICEBOT_TEST_DATABASE_URL=postgres://... make suite).
suite: check-native $(STAMP) catalogues-compile
	$(PYTEST)

# Benchmark (prints figures, asserts nothing): email latency at 1M invoices + PDF renders/s.
# Options: make bench ARGS="--rebuild --pg postgres://postgres@127.0.0.1:5432/postgres"
# (python -m tests.bench --help lists them). The built vault is cached in var/bench/.
bench: check-native $(STAMP) catalogues-compile
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

# Translations (vault/i18n.py): one catalogue per domain, its sources named by
# vault/locale/DOMAIN.cfg. `make catalogues` extracts the English strings into DOMAIN.pot
# and merges them into every language's .po (new strings arrive untranslated, for a
# translator; tests/test_catalogues.py fails until they are translated). The .mo files are
# compiled here, at install, and never committed.
LANGUAGES := de fr es it nl pt
catalogues: $(STAMP)
	@for cfg in vault/locale/*.cfg; do d=$$(basename $$cfg .cfg); \
	  $(BIN)/pybabel --quiet extract -F $$cfg -k _ -k N_ -k ngettext:1,2 -k pgettext:1c,2 \
	    --sort-by-file --no-wrap --project invoicebot -o vault/locale/$$d.pot . && \
	  for lang in $(LANGUAGES); do \
	    if [ -f vault/locale/$$lang/LC_MESSAGES/$$d.po ]; then \
	      $(BIN)/pybabel --quiet update --no-wrap --no-fuzzy-matching --ignore-obsolete -D $$d -l $$lang \
	        -i vault/locale/$$d.pot -d vault/locale; \
	    else $(BIN)/pybabel --quiet init --no-wrap -D $$d -l $$lang \
	        -i vault/locale/$$d.pot -d vault/locale; fi; done; done

catalogues-compile: $(STAMP)
	@for po in vault/locale/*/LC_MESSAGES/*.po; do [ -f "$$po" ] || continue; \
	  $(BIN)/pybabel --quiet compile -i $$po -o $${po%.po}.mo || exit 2; done
