# qmail-ng: the commands an administrator and a developer need.
#   make          build every program into build/bin/
#   make test     install what is missing, build, run every test, then again
#                 under AddressSanitizer and UndefinedBehaviorSanitizer
#   make run      start a demo instance in ./run/ (SMTP 2525, POP3 2110)
#   make bench    benchmarks beside a peer MTA
#   make fuzz     run every libFuzzer target for FUZZ_SECONDS (30) each
#   make deps     install the build and test dependencies that are missing
#   make install  PREFIX=/usr/local DESTDIR= (see docs/install.md)

JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

PREFIX ?= /usr/local
DESTDIR ?=

.PHONY: all build deps test test-fast test-asan run stop bench install fuzz clean

FUZZ_SECONDS ?= 30

all: build

build:
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	@cmake --build build -j $(JOBS)

deps:
	@sh scripts/deps.sh

test: deps
	@$(MAKE) --no-print-directory test-fast
	@$(MAKE) --no-print-directory test-asan

test-fast: build
	cd build && ctest --output-on-failure -j $(JOBS)

test-asan:
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DQNG_SANITIZE=ON $(CMAKE_FLAGS) >/dev/null
	@cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS)

run: build
	@sh scripts/run-demo.sh

stop:
	@build/bin/qmailctl -d "$(CURDIR)/run" stop

bench: build
	@sh bench/run.sh

install: build
	@sh scripts/install.sh --prefix "$(PREFIX)" --destdir "$(DESTDIR)" --build build

fuzz:
	@sh scripts/fuzz.sh $(FUZZ_SECONDS)

clean:
	rm -rf build build-asan build-fuzz
