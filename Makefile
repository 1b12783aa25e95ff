# Branchline: `make run` starts the box on the simulated board; `make test` runs the test suite.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Debian packages: ALSA headers for pyalsaaudio, Chromium for the web tests, espeak-ng and
# alsa-utils for real speech in the DSP talk-off tests.
APT_PKGS := libasound2-dev chromium chromium-driver espeak-ng alsa-utils
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
STATE ?= var

.PHONY: deps run test test-slow bench clean

deps: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@missing=$$(for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
	[ -x $(BIN)/python ] || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

run: deps
	$(BIN)/branchline run --state $(STATE) --demo

test: deps
	$(BIN)/python -m pytest -q -m "not slow"

test-slow: deps
	$(BIN)/python -m pytest -q -m slow

bench: deps
	$(BIN)/branchline bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
