# pcx-cc: two commands get a stranger from zero to an offloaded program.
#   make demo   installs the toolchain (apt) if missing, a venv with pcx-cc, and offloads an example
#   make test   runs the test suite (real compilers, real offloaded runs on the host device)

VENV    ?= .venv
PY      := $(VENV)/bin/python
APT_PKGS := clang-19 clang-tools-19 libomp-19-dev csmith libcsmith-dev cmake make
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: toolchain setup demo test bench clean

toolchain:
	@missing=; \
	command -v clang-19 >/dev/null || missing=1; \
	[ -x /usr/lib/llvm-19/bin/clang-linker-wrapper ] || missing=1; \
	ls /usr/lib/llvm-19/lib/libomptarget.so* >/dev/null 2>&1 || missing=1; \
	command -v csmith >/dev/null && [ -d /usr/include/csmith ] || missing=1; \
	command -v cmake >/dev/null || missing=1; \
	if [ -n "$$missing" ]; then \
	  echo "pcx: installing $(APT_PKGS) with apt-get"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(APT_PKGS) >/dev/null; \
	fi

$(VENV)/.installed: pyproject.toml pcx_driver/launch/pcx-cc $(wildcard plugins/*/pyproject.toml)
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# compat editable mode: a plain path entry, not an import-hook finder that costs every
	# pcx-cc start-up ~25 ms (the pass-through overhead budget is 10%).
	$(PY) -m pip install -q --config-settings editable_mode=compat -e '.[test]' $(foreach p,$(wildcard plugins/*/pyproject.toml),-e $(dir $(p)))
	@touch $@

setup: toolchain $(VENV)/.installed

demo: setup
	@$(PY) -m pcx_driver.demo

test: setup
	$(PY) -m pytest -q -n 2 --dist loadgroup

bench: setup
	$(PY) bench/overhead.py
	$(PY) bench/datamove.py

clean:
	rm -rf $(VENV) .pcx build
