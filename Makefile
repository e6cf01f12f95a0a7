# The commands a new user types. Everything else is CMake and CTest underneath.
#   make test       install missing Debian packages, build, run every test suite
#   make run        build and start marketsyncd on the embedded demo simulator (Ctrl-C stops it)
#   make bench      build Release, run the benchmarks, print a table
#   make sanitize   build with AddressSanitizer and UBSan, run every test suite
#   make power-loss the long power-cut campaign: POWER_CUTS (default 1000) cuts from POWER_SEED;
#                   make test runs 100
#   make run-cluster two marketsyncd nodes on a replicated PostgreSQL (tools/pg-cluster)
#   make failover   the long failover campaigns (log-level nodes, then marketsyncd nodes):
#                   FAILOVER_CYCLES (default 50) kill -9s of the primary PostgreSQL under
#                   Patroni each, from FAILOVER_SEED; make test runs 5 of each
#   make fuzz       build the libFuzzer targets with clang, ASan and UBSan, fuzz each for
#                   FUZZ_SECONDS (default 60); make test replays their committed corpora

BUILD_DIR ?= build
JOBS ?= 2
WERROR ?= $(if $(CI),ON,OFF)
CMAKE_FLAGS ?=

.PHONY: all deps build test run run-cluster bench sanitize fuzz power-loss failover clean

all: build

deps:
	@tools/install-deps

build: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMARKETSYNC_WERROR=$(WERROR) $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR) -j$(JOBS)

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j$(JOBS)

DEMO_FLAGS ?=

run: build
	$(BUILD_DIR)/tools/marketsyncd/marketsyncd --demo --data data $(DEMO_FLAGS)

run-cluster: build
	tools/run-cluster $(BUILD_DIR)

bench: deps
	cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF -DMARKETSYNC_WERROR=$(WERROR)
	cmake --build build-release -j$(JOBS) --target benchmarks
	tools/bench/run-benchmarks build-release

sanitize: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMARKETSYNC_SANITIZE=address,undefined \
	  -DMARKETSYNC_BUILD_BENCHMARKS=OFF -DMARKETSYNC_WERROR=$(WERROR)
	cmake --build build-asan -j$(JOBS)
	ctest --test-dir build-asan --output-on-failure -j$(JOBS)

POWER_CUTS ?= 1000
POWER_SEED ?= 20261202

power-loss: build
	MARKETSYNC_POWER_CUTS=$(POWER_CUTS) MARKETSYNC_POWER_SEED=$(POWER_SEED) \
	  $(BUILD_DIR)/tests/engine_power_loss_test --gtest_brief=1

FAILOVER_CYCLES ?= 50
FAILOVER_SEED ?= 20261202

failover: build
	MARKETSYNC_FAILOVER_CYCLES=$(FAILOVER_CYCLES) MARKETSYNC_FAILOVER_SEED=$(FAILOVER_SEED) \
	  $(BUILD_DIR)/tests/pglog_failover_test --gtest_brief=1
	MARKETSYNC_FAILOVER_CYCLES=$(FAILOVER_CYCLES) MARKETSYNC_FAILOVER_SEED=$(FAILOVER_SEED) \
	  $(BUILD_DIR)/tests/tools_marketsyncd_failover_test --gtest_brief=1

FUZZ_SECONDS ?= 60

fuzz:
	@tools/install-deps fuzz
	cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF \
	  -DMARKETSYNC_BUILD_BENCHMARKS=OFF -DMARKETSYNC_FUZZ=ON -DMARKETSYNC_SANITIZE=address,undefined
	cmake --build build-fuzz -j$(JOBS) --target fuzz_targets
	tests/fuzz/run-fuzz build-fuzz $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD_DIR) build-release build-asan build-fuzz
