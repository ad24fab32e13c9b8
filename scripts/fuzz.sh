#!/bin/sh
# fuzz.sh [SECONDS] [TARGET...]: builds the libFuzzer targets (fuzz/, with
# clang++, AddressSanitizer and UBSan) and runs each for SECONDS (default
# 30), one at a time, on a copy of its seed corpus and past crashes, so the
# repository is not changed. Exits 1 naming the kept input of every crash,
# leak, timeout or out-of-memory; 111 when clang++ or libFuzzer is missing.
#
# Environment: QNG_FUZZ_BUILD (default build-fuzz), QNG_FUZZ_OUT (where
# crash inputs are kept; default BUILD/crashes), QNG_FUZZ_KEEP_CORPUS=DIR
# (keep each grown corpus in DIR/TARGET), JOBS (build parallelism, 2).
# docs/fuzzing.md.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-30}
[ $# -gt 0 ] && shift
case $seconds in
  ''|*[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2; exit 100 ;;
esac
build=${QNG_FUZZ_BUILD:-$root/build-fuzz}
out=${QNG_FUZZ_OUT:-$build/crashes}

cxx=${QNG_FUZZ_CXX:-}
if [ -z "$cxx" ]; then
  for c in clang++ clang++-14 clang++-15 clang++-16; do
    if command -v "$c" >/dev/null 2>&1; then cxx=$c; break; fi
  done
fi
if [ -z "$cxx" ]; then
  echo "fuzz.sh: clang++ not found (Debian: apt-get install clang libclang-rt-14-dev)" >&2
  exit 111
fi
libfuzzer=$("$cxx" -print-file-name=libclang_rt.fuzzer-x86_64.a 2>/dev/null || true)
case $libfuzzer in
  /*) [ -f "$libfuzzer" ] || libfuzzer= ;;
  *) libfuzzer= ;;
esac
if [ -z "$libfuzzer" ] && ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a \
    >/dev/null 2>&1; then
  echo "fuzz.sh: libFuzzer not found (Debian: apt-get install libclang-rt-14-dev)" >&2
  exit 111
fi

CXX=$cxx cmake -S "$root/fuzz" -B "$build" -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$build" -j "${JOBS:-2}"

if [ $# -gt 0 ]; then
  targets="$*"
else
  targets=$(sed -n '/^set(QNG_FUZZ_TARGETS/,/)/p' "$root/fuzz/targets.cmake" |
            sed 's/set(QNG_FUZZ_TARGETS//; s/)//' | tr -s ' \n' '  ')
fi

# The dictionary of a target, if it has one.
dict_of() {
  case $1 in
    smtpd|address|remote) echo smtp ;;
    inject_tokens|inject_message|dkim|send_dsn) echo header ;;
    tcprules) echo tcprules ;;
    assign|dotqmail) echo qmail ;;
    *) echo "" ;;
  esac
}

work=$(mktemp -d "${TMPDIR:-/tmp}/qng-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
failed=""

for t in $targets; do
  bin=$build/fuzz_$t
  if [ ! -x "$bin" ]; then
    echo "fuzz.sh: no target $t" >&2
    exit 100
  fi
  w=$work/$t
  mkdir -p "$w/corpus" "$w/artifacts" "$w/tmp"
  for src in "$root/fuzz/corpus/$t" "$root/fuzz/regressions/$t"; do
    [ -d "$src" ] && find "$src" -maxdepth 1 -type f ! -name '.*' -exec cp {} "$w/corpus/" \;
  done
  set -- -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$w/artifacts/"
  d=$(dict_of "$t")
  [ -n "$d" ] && set -- "$@" -dict="$root/fuzz/dict/$d.dict"
  echo "fuzz.sh: $t for ${seconds}s"
  if TMPDIR=$w/tmp ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
     UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     "$bin" "$@" "$w/corpus" >"$w/log" 2>&1; then
    grep -E '^(stat::number_of_executed_units|#[0-9]+ +DONE)' "$w/log" | tail -n 1 | sed "s/^/  /"
  else
    tail -n 40 "$w/log" >&2
    mkdir -p "$out/$t"
    kept=""
    for f in "$w/artifacts"/*; do
      [ -f "$f" ] || continue
      cp "$f" "$out/$t/"
      kept="$kept $out/$t/$(basename "$f")"
      echo "fuzz.sh: $t: crash input kept as $out/$t/$(basename "$f")" >&2
    done
    [ -n "$kept" ] || kept=" $t(no input kept; see the log above)"
    failed="$failed$kept"
  fi
  if [ -n "${QNG_FUZZ_KEEP_CORPUS:-}" ]; then
    mkdir -p "$QNG_FUZZ_KEEP_CORPUS/$t"
    cp "$w/corpus"/* "$QNG_FUZZ_KEEP_CORPUS/$t/" 2>/dev/null || true
  fi
  rm -rf "$w"
done

if [ -n "$failed" ]; then
  echo "fuzz.sh: FAILED:$failed" >&2
  exit 1
fi
echo "fuzz.sh: every target ran ${seconds}s without a crash"
