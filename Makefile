# The two commands of the README, and the pieces they are made of.
#
#   make demo    install what is missing, build, run the sample end to end
#   make check   install what is missing, build and run every test
#                (Debug -Werror, ASan+UBSan, valgrind), "N passed, N failed"
.PHONY: all deps build demo check clean

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

clean:
	rm -rf build
