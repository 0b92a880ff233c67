# zferry: the user's entry point.  CMake does the building; this file names
# the commands the README promises.
#
#   make              build build/zferry
#   make check        install what is missing, build, run every test tier
#                     that runs on this machine: format, lint (cppcheck,
#                     clang-tidy), unit (plain, ASan and UBSan, valgrind),
#                     integration, a fuzz smoke run
#   make lint         cppcheck and clang-tidy over src/ (scripts/lint)
#   make demo         install, build, replicate on file-backed pools, locally
#                     and over a loopback ssh, then clean up
#   make check-openzfs  build (or restore from ~/.cache) an OpenZFS 2.3 qemu
#                     guest and run the OpenZFS suite in it
#   make format       reformat the sources with clang-format
#   make bench        install pv, mbuffer, zstd, lz4, build, and compare
#                     zferry's relay with them (several minutes)
#   make bench-quick  the same with small sizes, under a minute
#   make fuzz         build the libFuzzer targets (clang) into build/fuzz
#   make fuzz-smoke   run each fuzz target FUZZ_SECONDS (15) on its corpus;
#                     fails on any crash, leak or sanitizer report

BUILD    ?= build
ASAN     ?= build-asan
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE    ?= cmake
CTEST    ?= ctest

.PHONY: all deps check check-unit check-asan check-valgrind check-format \
	check-integration check-openzfs demo format clean lint

all: $(BUILD)/zferry

$(BUILD)/Makefile:
	$(CMAKE) -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

$(BUILD)/zferry: $(BUILD)/Makefile FORCE
	$(CMAKE) --build $(BUILD) -j $(JOBS)

$(ASAN)/Makefile:
	CC=clang $(CMAKE) -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DZF_SANITIZE=ON

deps:
	scripts/install-deps build test fuzz

check: deps
	$(MAKE) all
	$(MAKE) check-format
	$(MAKE) lint
	$(MAKE) check-unit
	$(MAKE) check-asan
	$(MAKE) check-valgrind
	$(MAKE) check-integration
	$(MAKE) fuzz-smoke FUZZ_SECONDS=10

check-format:
	scripts/check-format

lint: all
	scripts/lint $(BUILD)

check-unit: all
	cd $(BUILD) && $(CTEST) -L unit -j $(JOBS) --output-on-failure

check-integration: all
	cd $(BUILD) && $(CTEST) -E '^unit/' --output-on-failure

check-asan: $(ASAN)/Makefile
	$(CMAKE) --build $(ASAN) -j $(JOBS)
	cd $(ASAN) && $(CTEST) -L unit -j $(JOBS) --output-on-failure

check-valgrind: all
	scripts/valgrind-units $(BUILD)

check-openzfs:
	scripts/install-deps build openzfs
	$(MAKE) all
	tests/openzfs/run.sh $(BUILD)/zferry

.PHONY: bench bench-quick
bench:
	scripts/install-deps build test bench
	$(MAKE) all
	bench/run.sh $(BUILD)/zferry
	bench/sync.sh $(BUILD)/zferry
	bench/plan.sh $(BUILD)

bench-quick:
	scripts/install-deps build test bench
	$(MAKE) all
	bench/run.sh --quick $(BUILD)/zferry
	bench/sync.sh --quick $(BUILD)/zferry
	bench/plan.sh $(BUILD)

FUZZ         ?= $(BUILD)/fuzz
FUZZ_SECONDS ?= 15

.PHONY: fuzz fuzz-smoke
fuzz:
	scripts/install-deps build fuzz
	CC=clang $(CMAKE) -S tests/fuzz -B $(FUZZ) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	$(CMAKE) --build $(FUZZ) -j $(JOBS)

fuzz-smoke: fuzz
	tests/fuzz/run.sh $(FUZZ) $(FUZZ_SECONDS)

demo: deps
	$(MAKE) all
	scripts/demo.sh $(BUILD)/zferry

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZ)

FORCE:
