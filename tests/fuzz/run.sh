#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (build-fuzz/) and fuzzes one of them.
#   tests/fuzz/run.sh [SECONDS] [TARGET] [extra libFuzzer flags...]
# Defaults: 60 seconds of fuzz_decode_image. A target NAME (fuzz_NAME) starts
# from the seeds in tests/fuzz/corpus/NAME/ (or tests/fuzz/corpus_NAME/) and
# uses tests/fuzz/NAME.dict if any.
# New interesting inputs go to build-fuzz/corpus-TARGET/ (the committed seed
# corpus is never modified); crashes are written to build-fuzz/artifacts/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SECONDS_TO_RUN="${1:-60}"
TARGET="${2:-fuzz_decode_image}"
shift $(( $# > 2 ? 2 : $# ))
BUILD="${ES_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"

# Configure every time (a few seconds) so newly added fuzz_*.cpp targets exist.
cmake -S "$ROOT" -B "$BUILD" -DES_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang >/dev/null
cmake --build "$BUILD" --target "$TARGET" -j"${JOBS:-2}" -- --no-print-directory -s

mkdir -p "$BUILD/corpus-$TARGET" "$BUILD/artifacts"
NAME="${TARGET#fuzz_}"
SEEDS="$ROOT/tests/fuzz/corpus/$NAME"
[[ -d "$SEEDS" ]] || SEEDS="$ROOT/tests/fuzz/corpus_$NAME"   # older layout, e.g. corpus_coco/
[[ -d "$SEEDS" ]] || { echo "no seed corpus tests/fuzz/corpus/$NAME/" >&2; exit 2; }
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
exec "$BUILD/tests/fuzz/$TARGET" \
  -max_total_time="$SECONDS_TO_RUN" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
  -artifact_prefix="$BUILD/artifacts/" -print_final_stats=1 \
  $( [[ -f "$ROOT/tests/fuzz/$NAME.dict" ]] && echo "-dict=$ROOT/tests/fuzz/$NAME.dict" ) "$@" \
  "$BUILD/corpus-$TARGET" "$SEEDS"
