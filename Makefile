# The two commands of the README:
#   make run   install what is missing, build, write berth.yaml + data/, start berth
#   make test  install what is missing, build, run every test
# Everything else here is a step of those two.

BUILD      ?= build
ASAN_BUILD ?= build-asan
CONFIG     ?= berth.yaml
JOBS       ?= $(shell nproc)

.PHONY: run test deps test-deps build build-asan unit unit-asan integration clean

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

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
