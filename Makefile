# Thin wrapper over CMake: `make` builds build/krate, `make test` runs every test.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)

.PHONY: all krate test test-fast test-asan bench fuzz clean demo

all: krate

krate:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# The README's test command ends here: every test, plain and under ASan+UBSan.
test:
	@bash scripts/test.sh

test-fast: krate
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan:
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DKRATE_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j $(JOBS)

bench: krate
	@bash bench/run.sh

fuzz:
	@bash fuzz/run.sh

demo: krate
	@./$(BUILD)/krate serve --demo

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
