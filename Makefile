# The two commands of the README, and the pieces they are made of.
#
#   make demo    install what is missing, build, run the sample end to end
#   make check   install what is missing, build and run every test
#                (Debug -Werror, ASan+UBSan, valgrind), "N passed, N failed"
#   make bench   the benchmarks in bench/ (pyarrow and DuckDB, from PyPI,
#                as peers; the Python package's call overhead and DuckDB)
#   make bench-tiers   first-load time and call speed per compiler (gcc -O2,
#                gcc -O0, clang -O0, tcc): the measurements behind fast_tier
#   make conformance   every command of the WebAssembly core spec tests
#                through the engine, modules compiled as users get them
#                (make check runs them at -O0)
#   make differential N=1000 [SEED=1000] [WASM_OPT=--fuzz-passes]   N random
#                modules against wasmtime (make check runs 25)
.PHONY: all deps build demo check bench bench-tiers bench-guests clean conformance differential

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

# Cold start against code speed per compiler (docs/engine.md, "Tiers"):
# first loads of examples/engine/gcd.c, examples/c/gcd.c, bench/guests/alu.c
# and, when built (scripts/build-rust-guest.sh), the Rust guest; call times
# of gcd_sum and alu_sum.
TIER_COMPILERS = gcc-O2 gcc-O0 clang-O0 tcc tcc-only
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

clean:
	rm -rf build
