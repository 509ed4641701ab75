# The two commands of the README (./berth.sh run|test first installs make
# itself, on a bare Debian 12):
#   make run   install what is missing, build berth (only), write berth.yaml + data/, start berth
#   make test  install what is missing, build, run every test
# Everything else here is a step of those two, or:
#   make deb           the Debian package berth_<version>_<arch>.deb (packaging/build-deb.sh)
#   make bare-machine  the two commands in a fresh debootstrap root (slow; scripts/bare-machine.sh)

BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
FUZZ_BUILD ?= build-fuzz
# Seconds per fuzz target: make fuzz (long runs) and make fuzz-short (make test).
FUZZ_SECONDS       ?= 600
FUZZ_SHORT_SECONDS ?= 20
# Empty: every target (tests/fuzz/run.sh lists them).
FUZZ_TARGETS       ?=
CONFIG     ?= berth.yaml
JOBS       ?= $(shell nproc)
# Every GoogleTest binary of tests/unit: a sanitizer build that leaves one out
# fails ctest with <target>_NOT_BUILT.
UNIT_TEST_TARGETS = berth_unit_tests berth_s3_tests berth_storage_s3_tests \
	berth_store_conformance_tests berth_ui_tests

.PHONY: run test lint deps test-deps deb-deps build build-berth build-asan build-tsan build-fuzz \
	unit unit-asan unit-tsan integration integration-asan fuzz fuzz-short deb bare-machine clean

# Only the server: no unit tests, so no GoogleTest or benchmark (BERTH_TESTS=OFF).
run: deps build-berth
	$(BUILD)/src/berth init --config $(CONFIG)
	exec $(BUILD)/src/berth serve --config $(CONFIG)

test: test-deps lint build unit unit-asan unit-tsan integration integration-asan fuzz-short

deps:
	scripts/install-deps.sh

# Formatting (.clang-format) of every C++ file, seconds; clang-tidy
# (.clang-tidy) over src/, minutes. clang-tidy needs the compile commands, so
# the build folder is configured first, as `build` configures it.
lint:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBERTH_TESTS=ON -DBERTH_WERROR=ON >/dev/null
	BUILD=$(BUILD) JOBS=$(JOBS) scripts/lint.sh

test-deps:
	scripts/install-deps.sh --test

deb-deps:
	scripts/install-deps.sh --deb

build-berth:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBERTH_TESTS=OFF -DBERTH_WERROR=OFF >/dev/null
	cmake --build $(BUILD) -j $(JOBS) --target berth

build:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBERTH_TESTS=ON -DBERTH_WERROR=ON >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

build-asan:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DBERTH_SANITIZE=ON -DBERTH_TESTS=ON -DBERTH_WERROR=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS) --target $(UNIT_TEST_TARGETS) berth

# With clang, so that this build also checks the thread-safety annotations
# (GUARDED_BY, REQUIRES: src/common/thread_annotations.hpp): a member touched
# without its mutex fails here, at no extra build in `make test`.
build-tsan:
	cmake -S . -B $(TSAN_BUILD) -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug -DBERTH_TSAN=ON \
		-DBERTH_TESTS=ON -DBERTH_WERROR=ON >/dev/null
	cmake --build $(TSAN_BUILD) -j $(JOBS) --target $(UNIT_TEST_TARGETS)

unit: build
	cd $(BUILD) && ctest --output-on-failure

unit-asan: build-asan
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure

# halt_on_error: the first race fails its test instead of scrolling past.
unit-tsan: build-tsan
	cd $(TSAN_BUILD) && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 ctest --output-on-failure

# Then the API, auth, client, OCI conformance, docker and web interface
# suites once more against two berths on S3 (Ceph RGW) + PostgreSQL behind
# HAProxy, every request balanced on its own (tests/integration/cluster_target.sh).
integration: build
	tests/integration/run_all.sh
	BERTH_TARGET=cluster tests/integration/run_all.sh api auth clients conformance docker ui

# The suites that drive the server hardest, against the ASan+UBSan binary.
# Any report fails: berth exits at once (halt_on_error), and lib.sh's summary
# fails the suite when a report is in any of its logs. Leaks are checked at
# berth's normal exit (SIGTERM drains and returns from main). The big store
# of failures_test is cut to a tenth: it measures start-up and fsck speed,
# which means nothing in a -O0 ASan build, and fsck of 100k blobs there
# outlasts the suite's 120 s timeout.
integration-asan: build-asan
	ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		STARTUP_BLOBS=10000 STARTUP_TAGS=1000 BERTH_BIN=$(CURDIR)/$(ASAN_BUILD)/src/berth \
		tests/integration/run_all.sh api auth failures stall hostile gc_race

# libFuzzer needs clang; tests/fuzz/README.md says how to read the results.
build-fuzz:
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DBERTH_FUZZ=ON -DBERTH_TESTS=OFF >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS)

fuzz: build-fuzz
	tests/fuzz/run.sh long $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-short: build-fuzz
	tests/fuzz/run.sh short $(FUZZ_BUILD) $(FUZZ_SHORT_SECONDS) $(FUZZ_TARGETS)

deb: deb-deps
	packaging/build-deb.sh

bare-machine: test-deps
	scripts/bare-machine.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD) build-deb berth_*.deb
