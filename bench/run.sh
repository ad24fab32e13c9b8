#!/bin/sh
# bench/run.sh: `make bench`. qmail-ng beside Postfix on 127.0.0.1, measured
# in the same run, both durable; the harness is bench/bench.py and
# docs/bench.md says what it measures. Knobs: BENCH_N (messages, 2000),
# BENCH_C (concurrency, 10), BENCH_REPEAT (runs per server, 3), QNG_BIN
# (programs, default build/bin). Results: build/bench/results.json.
here=$(dirname "$0")
exec /usr/bin/python3 "$here/bench.py" "$@"
