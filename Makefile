# `make run` and `make test` are the whole quick start: each sets up what it needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WEB_BUILD := roomtone/static/index.html
WEB_SOURCES := $(shell find web -path web/node_modules -prune -o -type f -print 2>/dev/null)
CHROMIUM ?= chromium
PYTEST_ARGS ?=

.PHONY: run test setup web browser browser-packages lint test-web test-py bench bench-ws-node bench-janus clean

run: setup web
	ALLOW_INSECURE_HTTP=true $(BIN)/roomtone serve

test: setup web browser lint test-web test-py

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

ifneq ($(wildcard web/package.json),)
web: $(WEB_BUILD)

web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(WEB_BUILD): web/node_modules/.installed $(WEB_SOURCES)
	cd web && npm run --silent build

test-web: web/node_modules/.installed
	cd web && npm run --silent typecheck && npm run --silent test
else
web:
	@echo "web/ not present: serving without a browser client"
test-web:
	@true
endif

# Browser tests drive Debian's Chromium and Firefox ESR (the latter through
# tests/e2e/firefox/, puppeteer-core, which downloads no browser), with a
# PulseAudio null sink for Firefox's WebAudio; tests/isolated.sh needs iproute2's
# `ip`, and the network-conditions harness (tests/netshape.py) its `tc` and nftables' `nft`.
# Install them when we can (root with apt), else say which packages are missing.
FIREFOX_BRIDGE := tests/e2e/firefox/node_modules/.installed

browser: browser-packages $(FIREFOX_BRIDGE)

$(FIREFOX_BRIDGE): tests/e2e/firefox/package.json tests/e2e/firefox/package-lock.json
	cd tests/e2e/firefox && npm ci --no-audit --no-fund --loglevel=error
	touch $@

browser-packages:
	@missing=""; \
	command -v $(CHROMIUM) >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v firefox-esr >/dev/null 2>&1 || missing="$$missing firefox-esr"; \
	command -v pulseaudio >/dev/null 2>&1 || missing="$$missing pulseaudio"; \
	command -v ip >/dev/null 2>&1 || missing="$$missing iproute2"; \
	command -v nft >/dev/null 2>&1 || [ -x /usr/sbin/nft ] || missing="$$missing nftables"; \
	[ -z "$$missing" ] && exit 0; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian packages for the tests:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else \
		echo "The tests need Debian packages:$$missing (run: sudo apt-get install$$missing)" >&2; \
		exit 1; \
	fi

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# In a private network namespace: no test can send a packet off this machine.
test-py: setup
	tests/isolated.sh $(BIN)/pytest $(PYTEST_ARGS)

bench: setup
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[bench]'
	$(BIN)/python bench/sfu.py
	$(BIN)/python bench/wsfanout.py

# The ws relay against the original TypeScript/Node server (github.com/jonnyzzz/roomtone,
# checked out in ~/.cache/roomtone-node: see bench/ws_vs_node.py), same load, paired rounds.
bench-ws-node: setup
	$(BIN)/python bench/ws_vs_node.py $(BENCH_ARGS)

# Roomtone's SFU against Janus VideoRoom (Debian's janus), same participants, one run;
# not part of `make test`. BENCH_JANUS_ARGS e.g. "--sizes 3,5,8 --seconds 20 --rounds 2".
BENCH_JANUS_ARGS ?=
bench-janus: setup
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[bench]' py-spy
	@command -v janus >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "Installing Debian's janus for the benchmark"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
				apt-get install -y -qq -o DPkg::Lock::Timeout=300 janus >/dev/null; \
		else \
			echo "bench-janus needs Janus: sudo apt-get install janus" >&2; exit 1; \
		fi; }
	$(BIN)/python bench/janus_vs_sfu.py $(BENCH_JANUS_ARGS)

clean:
	rm -rf $(VENV) web/node_modules tests/e2e/firefox/node_modules roomtone/static
