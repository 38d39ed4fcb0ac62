#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test:
#   core unit tests (GoogleTest via ctest), Python tool tests (unittest),
#   Node tests for the WASM module and model files, and end-to-end tests in
#   headless Chromium. Ends with one line: "total: N passed, N failed, N skipped".
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/build.sh || { echo "build failed"; echo "total: 0 passed, 1 failed"; exit 1; }

LOGS="$ROOT/test-artifacts/logs"; mkdir -p "$LOGS"
pass=0; fail=0; skip=0

echo "== core (ctest)"
ctest --test-dir build/native --output-on-failure -j"$(nproc)" 2>&1 | tee "$LOGS/ctest.log"
read -r p f < <(awk '/tests passed, .* tests failed out of/ {
    split($0,a," "); total=$NF; failed=a[4]; print total-failed, failed }' "$LOGS/ctest.log")
s=$(grep -c '\*\*\*Skipped' "$LOGS/ctest.log" || true)
pass=$((pass + ${p:-0} - s)); fail=$((fail + ${f:-1})); skip=$((skip + s))

if compgen -G "tests/python/test_*.py" >/dev/null; then
  echo "== tools (python unittest)"
  /usr/bin/python3 -m unittest discover -s tests/python -p 'test_*.py' 2>&1 | tee "$LOGS/python.log"
  ran=$(sed -n 's/^Ran \([0-9]*\) tests\?.*/\1/p' "$LOGS/python.log" | tail -1)
  pf=$(sed -n 's/.*failures=\([0-9]*\).*/\1/p' "$LOGS/python.log" | tail -1)
  pe=$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' "$LOGS/python.log" | tail -1)
  ps=$(sed -n 's/.*skipped=\([0-9]*\).*/\1/p' "$LOGS/python.log" | tail -1)
  bad=$(( ${pf:-0} + ${pe:-0} )); [[ -z "$ran" ]] && bad=1
  pass=$((pass + ${ran:-0} - bad - ${ps:-0})); fail=$((fail + bad)); skip=$((skip + ${ps:-0}))
fi

js_tests=(tests/node/*.test.mjs tests/e2e/*.test.mjs)
if ((${#js_tests[@]})) && [[ -e "${js_tests[0]}" ]]; then
  echo "== node and browser (node --test)"
  node --test --test-concurrency=1 --test-reporter=spec --test-reporter-destination=stdout \
       --test-reporter=tap --test-reporter-destination="$LOGS/node.tap" "${js_tests[@]}"
  np=$(sed -n 's/^# pass \([0-9]*\)/\1/p' "$LOGS/node.tap"); nf=$(sed -n 's/^# fail \([0-9]*\)/\1/p' "$LOGS/node.tap")
  ns=$(sed -n 's/^# skipped \([0-9]*\)/\1/p' "$LOGS/node.tap"); nc=$(sed -n 's/^# cancelled \([0-9]*\)/\1/p' "$LOGS/node.tap")
  [[ -z "$np" ]] && nf=1
  pass=$((pass + ${np:-0})); fail=$((fail + ${nf:-0} + ${nc:-0})); skip=$((skip + ${ns:-0}))
fi

echo "total: $pass passed, $fail failed, $skip skipped"
[[ $fail -eq 0 && $pass -gt 0 ]]
