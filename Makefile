# driftd: the front door. `make demo` and `make test` install what is missing
# (Debian packages, via scripts/install-deps), configure and build in build/.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=

.PHONY: all deps build test demo asan test-asan fuzz bench format clean install

all: build

deps:
	@scripts/install-deps build test

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# The demo needs the build packages and curl, not the test group, and the driftd
# binary alone: built quietly (one line; the log is kept and its end shown
# if the build fails), without the sub-makes' Entering/Leaving lines.
demo:
	@scripts/install-deps demo
	@mkdir -p $(BUILD)
	@echo "demo: building driftd in $(BUILD)/ (log: $(BUILD)/demo-build.log)"
	@{ cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) && \
	   MAKEFLAGS=--no-print-directory cmake --build $(BUILD) -j $(JOBS) --target driftd; \
	 } >$(BUILD)/demo-build.log 2>&1 || \
	 { tail -n 30 $(BUILD)/demo-build.log >&2; \
	   echo "demo: the build failed (whole log: $(BUILD)/demo-build.log)" >&2; exit 1; }
	@scripts/demo $(BUILD)/agent/driftd

asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DDRIFTD_SANITIZE=ON -DDRIFTD_WERROR=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

test-asan: asan
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

fuzz:
	@scripts/install-deps fuzz
	@CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDRIFTD_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS)

bench: build
	@scripts/install-deps bench
	@bench/check.sh

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

install: build
	@cmake --install $(BUILD)

clean:
	@rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
