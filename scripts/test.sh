#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test:
#   core unit tests (GoogleTest via ctest), Python tool tests (unittest),
#   Node tests for the WASM module and model files, and end-to-end tests in
#   headless Chromium. Ends with one line: "total: N passed, N failed, N skipped".
#
# Nothing can hang it: every test has its own time limit (ctest TIMEOUT,
# node --test-timeout and per-test { timeout }), every step runs under
# `timeout`, and all steps share one overall budget (ES_TEST_BUDGET seconds,
# default 80 min, inside CI's 90). A test or step that runs out of time counts
# as a failure and is named in a "TIMEOUT:" or "FAILED:" line. Results are read
# only from this run's logs (test-artifacts/logs/ is emptied first); a step
# that leaves no result counts as a failure.
#
# For a quicker partial run: ES_SKIP_BUILD=1, ES_CTEST_ARGS="-R Server",
# ES_PY_PATTERN='test_x*.py', ES_JS_TESTS="tests/node/a.test.mjs ..." (empty
# ES_JS_TESTS or ES_PY_PATTERN=none skips that step).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

BUDGET="${ES_TEST_BUDGET:-4800}"
CTEST_TEST_LIMIT=120        # s per GoogleTest test (also the TIMEOUT property in tests/CMakeLists.txt)
NODE_TEST_LIMIT=600000      # ms per Node/browser test without its own { timeout }, and per test file
START=$SECONDS
pass=0; fail=0; skip=0

# The limit for a step: its own, but never past the overall budget.
limit() { local left=$((BUDGET - (SECONDS - START))); ((left < 1)) && left=1; echo $(( $1 < left ? $1 : left )); }
# Runs a step under `timeout`; kills its whole process group if it overruns.
bounded() { local s=$1; shift; timeout --kill-after=15 "$s" "$@"; }
note_timeout() { echo "TIMEOUT: $1 ran past its ${2}s limit and was stopped; counted as 1 failure"; fail=$((fail + 1)); }
summary() { echo "total: $pass passed, $fail failed, $skip skipped"; }

LOGS="$ROOT/test-artifacts/logs"; mkdir -p "$LOGS"
rm -f "$LOGS"/*

rc=0
if [[ -z "${ES_SKIP_BUILD:-}" ]]; then
  lim=$(limit 2700)
  bounded "$lim" bash scripts/build.sh
  rc=$?
fi
if ((rc != 0)); then
  ((rc == 124 || rc == 137)) && note_timeout "the build" "$lim" || { echo "build failed"; fail=$((fail + 1)); }
  summary; exit 1
fi

echo "== core (ctest)"
lim=$(limit 1200)
bounded "$lim" ctest --test-dir build/native --output-on-failure --timeout "$CTEST_TEST_LIMIT" -j"$(nproc)" ${ES_CTEST_ARGS:-} 2>&1 \
  | tee "$LOGS/ctest.log"
rc=${PIPESTATUS[0]}
read -r p f < <(awk '/tests passed, .* tests failed out of/ { print $NF - $4, $4 }' "$LOGS/ctest.log")
if [[ -z "${p:-}" ]]; then
  # No summary: count the tests that finished, then the step itself as a failure.
  p=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .* Passed ' "$LOGS/ctest.log" || true)
  f=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*\*\*\*(Failed|Timeout|Exception|Not Run)' "$LOGS/ctest.log" || true)
  s=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*\*\*\*Skipped' "$LOGS/ctest.log" || true)
  pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
  ((rc == 124 || rc == 137)) && note_timeout "ctest" "$lim" || { echo "FAILED: ctest left no result line (rc $rc)"; fail=$((fail + 1)); }
elif ((p + f == 0)); then
  echo "FAILED: ctest found no tests"; fail=$((fail + 1))
else
  s=$(grep -c '\*\*\*Skipped' "$LOGS/ctest.log" || true)
  pass=$((pass + p - s)); fail=$((fail + f)); skip=$((skip + s))
  grep -E '^\s+[0-9]+ - .* \([A-Za-z ]+\)$' "$LOGS/ctest.log" | grep -v '(Skipped)$' \
    | sed -E 's/^\s+[0-9]+ - /FAILED: ctest /' || true
fi

PY_PATTERN="${ES_PY_PATTERN:-test_*.py}"
if [[ "$PY_PATTERN" != none ]] && compgen -G "tests/python/$PY_PATTERN" >/dev/null; then
  echo "== tools (python unittest)"
  lim=$(limit 900)
  bounded "$lim" /usr/bin/python3 -m unittest discover -s tests/python -p "$PY_PATTERN" 2>&1 | tee "$LOGS/python.log"
  rc=${PIPESTATUS[0]}
  ran=$(sed -n 's/^Ran \([0-9]*\) tests\?.*/\1/p' "$LOGS/python.log" | tail -1)
  pf=$(sed -n 's/^FAILED (.*failures=\([0-9]*\).*/\1/p' "$LOGS/python.log" | tail -1)
  pe=$(sed -n 's/^FAILED (.*errors=\([0-9]*\).*/\1/p' "$LOGS/python.log" | tail -1)
  ps=$(sed -n 's/^\(OK\|FAILED\) (.*skipped=\([0-9]*\).*/\2/p' "$LOGS/python.log" | tail -1)
  if [[ -z "$ran" ]]; then
    ((rc == 124 || rc == 137)) && note_timeout "python unittest" "$lim" || { echo "FAILED: python unittest left no result (rc $rc)"; fail=$((fail + 1)); }
  elif ((ran == 0)); then
    echo "FAILED: python unittest ran no tests"; fail=$((fail + 1))
  else
    # An import error is reported by unittest as an error of a "_FailedTest": a failure here.
    bad=$(( ${pf:-0} + ${pe:-0} ))
    ((bad == 0 && rc != 0)) && bad=1  # non-zero exit without a counted failure
    pass=$((pass + ran - bad - ${ps:-0})); fail=$((fail + bad)); skip=$((skip + ${ps:-0}))
    sed -n 's/^\(ERROR\|FAIL\): /FAILED: python /p' "$LOGS/python.log"
  fi
fi

js_tests=(tests/node/*.test.mjs tests/e2e/*.test.mjs)
[[ -n "${ES_JS_TESTS+set}" ]] && read -r -a js_tests <<< "$ES_JS_TESTS"
if ((${#js_tests[@]})) && [[ -e "${js_tests[0]}" ]]; then
  echo "== node and browser (node --test)"
  lim=$(limit 2700)
  bounded "$lim" node --test --test-concurrency=1 --test-timeout="$NODE_TEST_LIMIT" \
       --test-reporter=spec --test-reporter-destination=stdout \
       --test-reporter=tap --test-reporter-destination="$LOGS/node.tap" "${js_tests[@]}"
  rc=$?
  tap="$LOGS/node.tap"; [[ -f "$tap" ]] || tap=/dev/null
  nt=$(sed -n 's/^# tests \([0-9]*\)$/\1/p' "$tap"); np=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$tap")
  nf=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$tap"); ns=$(sed -n 's/^# skipped \([0-9]*\)$/\1/p' "$tap")
  nc=$(sed -n 's/^# cancelled \([0-9]*\)$/\1/p' "$tap"); nd=$(sed -n 's/^# todo \([0-9]*\)$/\1/p' "$tap")
  if [[ -z "$np" || -z "$nt" ]]; then
    ((rc == 124 || rc == 137)) && note_timeout "node --test" "$lim" || { echo "FAILED: node --test left no summary (rc $rc)"; fail=$((fail + 1)); }
  elif ((nt == 0)); then
    echo "FAILED: node --test ran no tests"; fail=$((fail + 1))
  else
    pass=$((pass + np)); fail=$((fail + ${nf:-0} + ${nc:-0})); skip=$((skip + ${ns:-0} + ${nd:-0}))
    ((${nf:-0} + ${nc:-0} == 0 && rc != 0)) && { echo "FAILED: node --test exited $rc without a failed test"; fail=$((fail + 1)); }
  fi
  # Each failed, cancelled or timed-out test by name (TAP "not ok"; suites included).
  sed -n 's/^\s*not ok [0-9]* - /FAILED: node /p' "$tap"
fi

summary
[[ $fail -eq 0 && $pass -gt 0 ]]
