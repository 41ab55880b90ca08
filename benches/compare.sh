#!/usr/bin/env bash
# Build time and peak memory of `kfp-aws build DIR` against `kubectl kustomize DIR`
# on the same directory in the same run, reported as ratios.
#
#   benches/compare.sh [DIR] [RUNS]
#
# DIR defaults to the largest engine fixture; RUNS (default 20) builds of each
# tool are timed, alternating between the tools, after one warm-up run each;
# the report gives the median run.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-tests/fixtures/build/large-platform}"
runs="${2:-20}"
unset RUST_BACKTRACE

command -v kubectl >/dev/null || { echo "kubectl is needed for the comparison" >&2; exit 2; }
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-target}/release/kfp-aws"

# Same output first: a speed-up on a wrong answer means nothing.
if ! diff -q <("$bin" build "$dir") <(kubectl kustomize "$dir" 2>/dev/null) >/dev/null; then
  echo "outputs differ on $dir; fix that before measuring" >&2
  exit 1
fi

. benches/lib.sh

A=(kubectl kustomize "$dir")
B=("$bin" build "$dir")
read -r k_t k_m f_t f_m < <(measure_pair)
objects=$("$bin" build "$dir" | grep -c '^kind:' || true)

printf 'input: %s (%s objects), %s runs each\n' "$dir" "$objects" "$runs"
report 'kubectl kustomize' "$k_t" "$k_m" 'kfp-aws build' "$f_t" "$f_m"
