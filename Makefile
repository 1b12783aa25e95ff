# Branchline: `make run` starts the box on the simulated board; `make test` runs the checks, then the test suite.
# Python dependencies, pinned: requirements.txt is what a box runs (all `make install` puts on a Pi),
# requirements-hq.txt HQ's collector, requirements-test.txt both, the test tools and (through
# requirements-lint.txt) the checkers: this .venv.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Debian packages: ALSA headers for pyalsaaudio, Chromium for the web tests, espeak-ng and
# alsa-utils for real speech in the DSP talk-off tests, postgresql for the HQ collector's
# PostgreSQL test (the test starts its own server in a temporary directory), openssl for the web
# process's first certificate, gcc and the Python headers for the DSP receivers' native kernels
# (setup.py; built by `pip install -e .`) and the power-cut shim the crash tests load (tests/e2e/powercut.c).
APT_PKGS := libasound2-dev chromium chromium-driver espeak-ng alsa-utils postgresql openssl gcc libc6-dev python3-dev
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
STATE ?= var

# `make install BOARD=<profile>` puts the box on a Pi: code under PREFIX, systemd units, udev rules,
# ALSA names, the journal's limits, the service user, the DSP kernels compiled for the target's CPU and Python
# (never copied from here), and the code's bytecode compiled (the services run with the code read-only:
# docs/architecture.md §30). With DESTDIR it only stages the files (a package build, a test): the
# venv, the user and the reloads are left to the target's first boot or its package scripts.
BOARD ?= usb-modems
PREFIX ?= /opt/branchline
DESTDIR ?=
SYSTEMD_DIR ?= /etc/systemd/system
UDEV_DIR ?= /etc/udev/rules.d
ALSA_DIR ?= /etc/alsa/conf.d
JOURNALD_DIR ?= /etc/systemd/journald.conf.d
SYSUSERS_DIR ?= /usr/lib/sysusers.d
# HQ's collector (hq/) and the test requirements stay off the box.
PACKAGES := firmware drivers dsp webui typed_toml
SOURCES := $(PACKAGES) board pyproject.toml setup.py requirements.txt README.md
# The native kernels' C sources and their shared header; the venv's editable install compiles them
# beside their modules.
KERNELS := $(wildcard dsp/*.c dsp/*.h)
# setup.py builds them optionally (HQ's server needs none): the box's installs check that they were.
KERNELS_BUILT := import dsp.dtmf_kernel, dsp.mfr2_kernel
REQUIREMENTS := requirements.txt requirements-hq.txt requirements-test.txt requirements-lint.txt

.PHONY: deps lint run test test-slow fuzz bench soak clean install messages

deps: $(STAMP)

$(STAMP): $(REQUIREMENTS) pyproject.toml setup.py $(KERNELS)
	@missing=$$(for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
	[ -x $(BIN)/python ] || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-test.txt
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	$(BIN)/python -c "$(KERNELS_BUILT)"
	touch $@

run: deps
	$(BIN)/branchline run --state $(STATE) --demo

# Seconds, before minutes of tests: lint (ruff), types (mypy, [tool.mypy] in pyproject.toml) and the
# layers' import contracts (lint-imports, [tool.importlinter]).
lint: deps
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# Two workers, each taking whole test files (module fixtures are built once per file).
test: deps lint
	$(BIN)/python -m pytest -q -m "not slow" -n 2 --dist loadfile

test-slow: deps
	$(BIN)/python -m pytest -q -m slow

# Coverage-guided fuzzing of the byte-level parsers (atheris: tests/coverage_fuzz.py), each target for
# FUZZ_SECONDS; a failure stops with its input in fuzz-artifacts/ (keep it as a test's @example).
FUZZ_SECONDS ?= 300
fuzz: deps
	mkdir -p fuzz-artifacts
	for target in $$(PYTHONPATH=. $(BIN)/python tests/coverage_fuzz.py --list); do \
	  PYTHONPATH=. $(BIN)/python tests/coverage_fuzz.py $$target -max_total_time=$(FUZZ_SECONDS) \
	    -rss_limit_mb=1024 -artifact_prefix=fuzz-artifacts/ || exit 1; \
	done

bench: deps
	$(BIN)/branchline bench

# About two hours: 24 simulated hours of mixed traffic in fast time, then an hour on 120 busy lines in
# real time, each sampled as it goes and judged at the end (docs/architecture.md §29).
soak: deps
	$(BIN)/branchline soak day
	$(BIN)/branchline soak lines

# After adding or changing a message in webui/ (Python, templates or scripts): extract every marked
# message into the template, merge it into each catalogue (new messages come empty, changed ones fuzzy),
# and compile what the web process reads (webui/locale_build.py: .mo files, the scripts' catalogues,
# CLDR formats). Then translate the new entries of webui/locale/zh/LC_MESSAGES/branchline.po, run
# `make messages` again, and commit all of it: tests/webui/test_i18n.py says what is missing or stale.
messages: deps
	PYTHONPATH=. $(BIN)/pybabel -q extract -F babel.cfg -k N_ --add-location=file --sort-by-file --no-wrap \
	  --omit-header -o webui/locale/branchline.pot .
	$(BIN)/pybabel -q update -D branchline -i webui/locale/branchline.pot -d webui/locale \
	  --no-wrap --ignore-obsolete --ignore-pot-creation-date
	PYTHONPATH=. $(BIN)/python -m webui.locale_build

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis .ruff_cache .mypy_cache .import_linter_cache fuzz-artifacts

install:
	@test -f board/profiles/$(BOARD).toml || { echo "make install: no board profile board/profiles/$(BOARD).toml" >&2; exit 2; }
	install -d $(DESTDIR)$(PREFIX)
	tar --exclude=__pycache__ --exclude='*.pyc' --exclude='*.so' -cf - $(SOURCES) | tar -xf - -C $(DESTDIR)$(PREFIX)
	for unit in branchline-engine branchline-web branchline-retention; do \
	  sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@BOARD@|$(BOARD)|g' board/systemd/$$unit.service > $$unit.service.tmp && \
	  install -D -m 644 $$unit.service.tmp $(DESTDIR)$(SYSTEMD_DIR)/$$unit.service && rm -f $$unit.service.tmp || exit 1; \
	done
	install -D -m 644 board/systemd/branchline-retention.timer $(DESTDIR)$(SYSTEMD_DIR)/branchline-retention.timer
	install -D -m 644 board/udev/70-branchline-modems.rules $(DESTDIR)$(UDEV_DIR)/70-branchline-modems.rules
	install -D -m 644 board/alsa/asound.conf $(DESTDIR)$(ALSA_DIR)/60-branchline.conf
	install -D -m 644 board/systemd/branchline.sysusers $(DESTDIR)$(SYSUSERS_DIR)/branchline.conf
	install -D -m 644 board/journald/branchline.conf $(DESTDIR)$(JOURNALD_DIR)/60-branchline.conf
	@if [ -z "$(DESTDIR)" ]; then \
	  $(PY) -m venv $(PREFIX)/venv && \
	  $(PREFIX)/venv/bin/pip install -q --disable-pip-version-check -r $(PREFIX)/requirements.txt && \
	  $(PREFIX)/venv/bin/pip install -q --disable-pip-version-check --no-deps -e $(PREFIX) && \
	  (cd $(PREFIX) && venv/bin/python -c "$(KERNELS_BUILT)") && \
	  $(PREFIX)/venv/bin/python -m firmware.tools.bytecode && \
	  systemd-sysusers && udevadm control --reload && udevadm trigger --subsystem-match=tty && \
	  systemctl restart systemd-journald && \
	  systemctl daemon-reload && systemctl enable --now branchline-engine branchline-web branchline-retention.timer; \
	fi
	@echo "installed board $(BOARD) under $(DESTDIR)$(PREFIX)"
