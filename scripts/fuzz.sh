#!/usr/bin/env bash
# Runs every libFuzzer target of tests/fuzz/ for SECONDS seconds each
# (default 30; npm test's run), after replaying its saved crashers
# (tests/fuzz/regressions/<target>/, each a past finding that must now pass).
# Mutations start from the seed corpus (tests/fuzz/corpus/<target>/) and grow
# in build/fuzz/corpus/<target>/, kept between runs on this machine. Prints
# per target: executions, coverage (edges), and the corpus size; any crash,
# sanitizer report, leak or timeout fails the script with the input saved in
# build/fuzz/crashes/.
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build
seconds=${1:-30}
shift || true
bash scripts/build-fuzz.sh >build/fuzz-build.log 2>&1 || { cat build/fuzz-build.log >&2; exit 1; }
targets=("$@")
if ((${#targets[@]} == 0)); then
  mapfile -t targets < <(cd tests/fuzz && ls fuzz_*.cpp | sed 's/\.cpp$//')
fi
mkdir -p build/fuzz/crashes
status=0
printf '%-22s %12s %10s %8s\n' target executions coverage corpus
for t in "${targets[@]}"; do
  bin=build/fuzz/$t
  if [[ -d tests/fuzz/regressions/$t ]] && compgen -G "tests/fuzz/regressions/$t/*" >/dev/null; then
    if ! "$bin" tests/fuzz/regressions/"$t"/* >"build/fuzz/$t.regressions.log" 2>&1; then
      echo "fuzz: $t fails a saved regression input (build/fuzz/$t.regressions.log)" >&2
      status=1
      continue
    fi
  fi
  mkdir -p "build/fuzz/corpus/$t"
  log=build/fuzz/$t.log
  if ! "$bin" "build/fuzz/corpus/$t" "tests/fuzz/corpus/$t" -max_total_time="$seconds" \
      -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="build/fuzz/crashes/$t-" >"$log" 2>&1; then
    echo "fuzz: $t found a failing input:" >&2
    grep -E "ERROR|SUMMARY|check failed|Test unit written" "$log" | head -5 >&2
    status=1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  corp=$(ls "build/fuzz/corpus/$t" | wc -l)
  printf '%-22s %12s %10s %8s\n' "$t" "${runs:-?}" "${cov:-?}" "$corp"
done
exit $status
