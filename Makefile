# The two commands of the README:
#   make run   install what is missing, build, write berth.yaml + data/, start berth
#   make test  install what is missing, build, run every test
# Everything else here is a step of those two.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
# Seconds per fuzz target: make fuzz (long runs) and make fuzz-short (make test).
FUZZ_SECONDS       ?= 600
FUZZ_SHORT_SECONDS ?= 20
# Empty: every target (tests/fuzz/run.sh lists them).
FUZZ_TARGETS       ?=
CONFIG     ?= berth.yaml
JOBS       ?= $(shell nproc)

.PHONY: run test deps test-deps build build-asan build-fuzz unit unit-asan integration fuzz \
	fuzz-short clean

run: deps build
	$(BUILD)/src/berth init --config $(CONFIG)
	exec $(BUILD)/src/berth serve --config $(CONFIG)

test: test-deps build unit unit-asan integration

deps:
	scripts/install-deps.sh

test-deps:
	scripts/install-deps.sh --test

build:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBERTH_TESTS=ON >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

build-asan:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DBERTH_SANITIZE=ON -DBERTH_TESTS=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS) --target berth_unit_tests

unit: build
	cd $(BUILD) && ctest --output-on-failure

unit-asan: build-asan
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure

integration: build
	tests/integration/run_all.sh

# libFuzzer needs clang; tests/fuzz/README.md says how to read the results.
build-fuzz:
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DBERTH_FUZZ=ON -DBERTH_TESTS=OFF >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS)

fuzz: build-fuzz
	tests/fuzz/run.sh long $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-short: build-fuzz
	tests/fuzz/run.sh short $(FUZZ_BUILD) $(FUZZ_SHORT_SECONDS) $(FUZZ_TARGETS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
