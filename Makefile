# The README's two commands: `make demo` and `make test`. Both install what is missing
# (scripts/install-deps), configure and build. Plain `make` only builds.
JOBS      ?= $(shell nproc)
BUILD     ?= build
ASAN      ?= build-asan
CMAKE_ARGS ?=
# -Werror (CMake's LCAE_WERROR): on in the builds `make test` runs, off for a plain
# `make`, where a compiler other than Debian's may warn about something new.
WERROR    ?= OFF

.PHONY: all deps deps-test build build-asan demo test test-release test-asan fuzz bench clean python

all: build

deps:
	@scripts/install-deps

build:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DLCAE_WERROR=$(WERROR) $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# The sanitizer build uses clang so that the same tree also builds the libFuzzer harnesses.
build-asan:
	@CC=clang cmake -S . -B $(ASAN) -DLCAE_SANITIZE=ON -DLCAE_FUZZ=ON -DLCAE_WERROR=$(WERROR) \
	  $(CMAKE_ARGS) >/dev/null
	@cmake --build $(ASAN) -j $(JOBS)

demo: deps build
	@scripts/demo $(BUILD)/lcae

test: deps-test
	@$(MAKE) --no-print-directory test-release test-asan

# `make test` also installs what the tests against outside tools need (Chromium, node and
# playwright-core for the report's browser test, PyTorch); in CI (CI set, neither empty nor
# "false", as the tests read it: tests/shell_helpers.sh) a failed npm install fails.
deps-test:
	@scripts/install-deps test
	@[ -d tests/report_browser/node_modules ] || npm ci --prefix tests/report_browser --offline --no-audit --no-fund >/dev/null || \
	  case "$$CI" in \
	    ""|false) echo "lcae: npm ci failed: the browser test will be skipped" >&2 ;; \
	    *) echo "lcae: npm ci failed (CI=$$CI: the browser test must run)" >&2; exit 1 ;; \
	  esac

# The builds `make test` runs have MPI (LCAE_MPI=ON: the tests/mpi_*.sh under mpirun);
# a plain `make` uses it when it is installed (AUTO).
test-release:
	@$(MAKE) --no-print-directory build WERROR=ON CMAKE_ARGS="$(CMAKE_ARGS) -DLCAE_MPI=ON"
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# LSan cannot run under ptrace-less containers reliably, and OpenBLAS/OpenMP keep
# thread pools alive at exit: leaks are checked by the fuzzers (detect_leaks=1) only.
test-asan:
	@$(MAKE) --no-print-directory build-asan WERROR=ON CMAKE_ARGS="$(CMAKE_ARGS) -DLCAE_MPI=ON"
	@cd $(ASAN) && ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

# The fuzzing campaign (docs/fuzzing.md): each fuzzer in turn for FUZZ_RUNS executions or
# FUZZ_SECONDS seconds, whichever first (10 million, 1800), in the sanitizer build that
# `make test` uses (hence WERROR=ON: the same flags, no rebuild).
fuzz: deps
	@$(MAKE) --no-print-directory build-asan WERROR=ON
	@scripts/fuzz $(ASAN)

# The Python package: liblcae.so beside python/lcae, so that `pip install ./python` (in a
# virtual environment: Debian's own Python refuses system-wide pip installs) or
# PYTHONPATH=python finds it.
python: deps build
	@cp $(BUILD)/liblcae.so python/lcae/liblcae.so
	@echo "lcae: python/lcae is ready: PYTHONPATH=$(CURDIR)/python, or pip install ./python"

bench: deps build
	@scripts/install-deps bench
	@scripts/bench $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN)
