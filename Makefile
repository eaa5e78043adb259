# The two commands of the README, and the pieces they are made of.
#
#   make demo    install what is missing, build, run the sample end to end
#   make check   install what is missing, build and run every test
#                (Debug -Werror, ASan+UBSan, valgrind), "N passed, N failed"
#   make bench   the benchmarks in bench/ (pyarrow and DuckDB, from PyPI,
#                as peers; the Python package's call overhead and DuckDB)
#   make bench-suite [QUICK=1] [SUITE_ARGS="--kernels gcd,upper --sizes 1,1024"]
#                the benchmark suite of issue 12 (docs/performance.md): ten
#                kernels x four batch sizes through native C, wasmudf,
#                wasmtime (PyPI) and V8 (Node.js) on the same data, and the
#                cold start of a C, a Rust and a Go module against
#                wasmtime; prints the table, writes build/bench/suite.csv,
#                cold.csv and suite.png (matplotlib from PyPI)
#   make bench-tiers   first-load time and call speed per compiler (gcc -O2,
#                gcc -O0, clang -O0, tcc): the measurements behind fast_tier;
#                first loads against wasmtime's compile (C, Rust, Go modules)
#   make conformance   every command of the WebAssembly core spec tests
#                through the engine, modules compiled as users get them
#                (make check runs them at -O0)
#   make fuzz-ipc [FUZZ_IPC_SECONDS=600]   the Arrow IPC reader's libFuzzer target
#                (make check runs it for 30 s); prints the executions
#   make differential N=1000 [SEED=1000] [WASM_OPT=--fuzz-passes]   N random
#                modules against wasmtime (make check runs 25)
.PHONY: all deps build demo check bench bench-suite bench-tiers bench-guests clean conformance differential fuzz-ipc

BUILD ?= build/release

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DWUDF_BUILD_TESTS=OFF >/dev/null
	@cmake --build $(BUILD) -j $$(nproc) >/dev/null

demo: build
	@scripts/demo.sh $(BUILD)/bin/wasmudf

check: deps
	@scripts/check.sh

bench: build
	@mkdir -p $(BUILD)/bench-modules
	@clang --target=wasm32-wasi -O2 -mexec-model=reactor examples/engine/gcd.c -o $(BUILD)/bench-modules/gcd.wasm
	@$(BUILD)/bench/bench_engine $(BUILD)/bench-modules/gcd.wasm
	@$(BUILD)/bench/bench_deadline
	@$(BUILD)/bin/wasmudf build examples/c/gcd.c -o $(BUILD)/bench-modules/udf_gcd.wasm
	@$(BUILD)/bin/wasmudf build examples/c/strings.c -o $(BUILD)/bench-modules/udf_strings.wasm
	@$(BUILD)/bench/bench_udf $(BUILD)/bench-modules/udf_gcd.wasm $(BUILD)/bench-modules/udf_strings.wasm
	@$(BUILD)/bench/bench_constants $(BUILD)/bench-modules/udf_gcd.wasm
	@$(BUILD)/bin/wasmudf build bench/guests/percall.c -o $(BUILD)/bench-modules/percall.wasm
	@$(BUILD)/bench/bench_call $(BUILD)/bench-modules/percall.wasm
	@$(BUILD)/bin/wasmudf build examples/c/aggregates.c -o $(BUILD)/bench-modules/udf_aggregates.wasm
	@$(BUILD)/bin/wasmudf build examples/c/tables.c -o $(BUILD)/bench-modules/udf_tables.wasm
	@$(BUILD)/bench/bench_kinds $(BUILD)/bench-modules/udf_aggregates.wasm $(BUILD)/bench-modules/udf_tables.wasm
	@python=$$(scripts/python-env.sh) && { $$python -c "import duckdb" 2>/dev/null || \
	  $$python -m pip install --quiet --disable-pip-version-check duckdb; } && \
	  WUDF_LIBRARY=$(BUILD)/libwasmudf.so $$python bench/bench_kinds_peers.py \
	  $(BUILD)/bench-modules/udf_aggregates.wasm $(BUILD)/bench-modules/udf_tables.wasm
	@python=$$(scripts/python-env.sh) && $$python -m pip install --quiet \
	  --disable-pip-version-check --no-build-isolation --no-deps ./python && \
	  $$python bench/bench_python.py $(BUILD)/bench-modules/udf_gcd.wasm

# The benchmark suite (bench/suite/suite.py): its Python needs pyarrow,
# wasmtime (scripts/python-env.sh), the wasmudf package (for
# wasm32 images of the data) and matplotlib (for the plot; bench only).
bench-suite: build
	@python=$$(scripts/python-env.sh) && \
	  { $$python -c "import matplotlib" 2>/dev/null || \
	    $$python -m pip install --quiet --disable-pip-version-check matplotlib; } && \
	  { $$python -c "import wasmudf" 2>/dev/null || $$python -m pip install --quiet \
	    --disable-pip-version-check --no-build-isolation --no-deps ./python; } && \
	  $$python bench/suite/suite.py --build $(BUILD) $(if $(filter 1,$(QUICK)),--quick) $(SUITE_ARGS)

# Cold start against code speed per compiler (docs/engine.md, "Tiers"):
# first loads of examples/engine/gcd.c, examples/c/gcd.c, bench/guests/alu.c
# and, when built (scripts/build-rust-guest.sh), the Rust guest; call times
# of gcd_sum and alu_sum against the same C compiled natively; then the
# first load of the C UDF, the Rust guest and the Go reactor
# (tests/guests/go_reactor, when Go is installed) against wasmtime's
# compile of the same bytes, in one run (bench/bench_cold.py, RUNS=5).
TIER_COMPILERS = gcc-O2 gcc-O0 clang-O0 tcc tcc-only cc-O0
RUNS ?= 5
GO ?= $(shell command -v go || echo /usr/local/go/bin/go)
bench-tiers: build
	@mkdir -p $(BUILD)/bench-modules
	@clang --target=wasm32-wasi -O2 -mexec-model=reactor examples/engine/gcd.c -o $(BUILD)/bench-modules/gcd.wasm
	@clang --target=wasm32-wasi -O2 -mexec-model=reactor bench/guests/alu.c -o $(BUILD)/bench-modules/alu.wasm
	@$(BUILD)/bin/wasmudf build examples/c/gcd.c -o $(BUILD)/bench-modules/udf_gcd.wasm
	@for c in $(TIER_COMPILERS); do $(BUILD)/bench/bench_tiers $$c $(BUILD)/bench-modules/gcd.wasm gcd_sum; done
	@for c in $(TIER_COMPILERS); do $(BUILD)/bench/bench_tiers $$c $(BUILD)/bench-modules/alu.wasm alu_sum; done
	@for c in $(TIER_COMPILERS); do $(BUILD)/bench/bench_tiers $$c $(BUILD)/bench-modules/udf_gcd.wasm; done
	@if [ -f build/rust/wasmudf_rust_example.wasm ]; then \
	  for c in $(TIER_COMPILERS); do $(BUILD)/bench/bench_tiers $$c build/rust/wasmudf_rust_example.wasm; done; fi
	@cold="$(BUILD)/bench-modules/udf_gcd.wasm"; \
	  if [ -f build/rust/wasmudf_rust_example.wasm ]; then cold="$$cold build/rust/wasmudf_rust_example.wasm"; fi; \
	  if [ -x "$(GO)" ] && (cd tests/guests/go_reactor && GOOS=wasip1 GOARCH=wasm "$(GO)" build \
	       -buildmode=c-shared -o $(CURDIR)/$(BUILD)/bench-modules/go_reactor.wasm .); then \
	    cold="$$cold $(BUILD)/bench-modules/go_reactor.wasm"; fi; \
	  python=$$(scripts/python-env.sh) && $$python bench/bench_cold.py $(BUILD)/bench/bench_tiers \
	    --runs $(RUNS) $$cold

# The guest languages' forms (docs/guests.md): row-wise against vectorized gcd over 1 M rows
# in the Rust crate (guest/rust) and the Go package (guest/go, on the fast tier).
bench-guests:
	@scripts/build-rust-guest.sh --examples build/rust/guest-examples
	@scripts/build-go-guest.sh build/go/example.wasm
	@python=$$(scripts/python-env.sh) && $$python -m pip install --quiet \
	  --disable-pip-version-check --no-build-isolation --no-deps ./python && \
	  $$python bench/bench_guests.py build/rust/guest-examples/all.wasm build/go/example.wasm

conformance: deps
	@scripts/conformance.sh spec

N ?= 1000
SEED ?= 1000
WASM_OPT ?=
differential: deps
	@scripts/conformance.sh differential $(N) $(SEED) "$(WASM_OPT)"

FUZZ_IPC_SECONDS ?= 600
fuzz-ipc: deps
	@scripts/fuzz-ipc.sh $(FUZZ_IPC_SECONDS)

clean:
	rm -rf build
