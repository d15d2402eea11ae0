# Thin wrapper around CMake. `make demo` and `make test` are the two commands the
# README promises; both install missing Debian packages first.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all deps build test test-unit test-sanitize demo format format-check clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_ARGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# Every test: the whole suite (unit, hostile, simulator, real sockets, soaks),
# the suite again under ASan+UBSan without the `soak` label (the simulator
# soak runs there at SOAK_ASAN_SCALE of its simulated time), the real-socket
# tests under valgrind, and a fuzz smoke run of every target. docs/robustness.md
# has the timings.
test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)
	cmake -S . -B $(ASAN_BUILD) -DHOMA_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug $(CMAKE_ARGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	HOMA_SOAK_SCALE=$(SOAK_ASAN_SCALE) ASAN_OPTIONS=detect_leaks=1 \
		UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS) -LE soak
	$(MAKE) test-valgrind
	scripts/fuzz.sh $(FUZZ_SMOKE_SECONDS)

test-unit: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

test-sanitize: deps
	cmake -S . -B $(ASAN_BUILD) -DHOMA_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug $(CMAKE_ARGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

# Robustness (docs/robustness.md).
.PHONY: test-valgrind fuzz
FUZZ_SECONDS       ?= 60
FUZZ_SMOKE_SECONDS ?= 10
SOAK_ASAN_SCALE    ?= 0.1

# The real-socket integration tests (label rt) under valgrind memcheck, case
# by case; fails on any memory error or definite/indirect leak.
test-valgrind: build
	tests/robust/valgrind_rt.sh $(BUILD) rt

# Every fuzz/fuzz_*.c libFuzzer target for FUZZ_SECONDS each (needs clang).
fuzz: deps
	scripts/fuzz.sh $(FUZZ_SECONDS)

demo: build
	$(BUILD)/tools/homa-perf demo

format: deps
	find include src tools tests fuzz examples -name '*.[ch]' | xargs clang-format -i

format-check: deps
	find include src tools tests fuzz examples -name '*.[ch]' | xargs clang-format --dry-run -Werror

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
