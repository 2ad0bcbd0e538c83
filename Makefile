# The two commands of the README: `make run` (the main job) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install bench clean browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,semantic]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/headline-dedup serve --ingest examples/feed.txt

test: $(STAMP) browser
	$(BIN)/python -m pytest -q -p no:cacheprovider

# The browser tests drive Debian's chromium through chromium-driver (nothing is downloaded at run time): installed
# here when missing and this runs as root (as CI does); otherwise say what is missing (those tests then fail).
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's chromium and chromium-driver for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else \
	    echo "make test: the browser tests need /usr/bin/chromium and /usr/bin/chromedriver;" \
	         "as root: apt-get install chromium chromium-driver"; \
	  fi; \
	fi

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var
