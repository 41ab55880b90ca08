#!/usr/bin/env bash
# Build time and peak memory of `kfp-aws build DIR` against `kubectl kustomize DIR`
# on the same directory in the same run, reported as ratios.
#
#   benches/compare.sh [DIR] [RUNS]
#
# DIR defaults to the largest engine fixture; RUNS (default 20) builds of each
# tool are timed back to back after one warm-up run each.
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

measure() { # prints: seconds-per-run peak-kB
  local tmp peak=0 m start end
  tmp=$(mktemp)
  "$@" >/dev/null 2>&1
  start=$(date +%s%N)
  for _ in $(seq "$runs"); do "$@" >/dev/null 2>&1; done
  end=$(date +%s%N)
  for _ in 1 2 3; do
    /usr/bin/time -f '%M' -o "$tmp" "$@" >/dev/null 2>&1
    read -r m < "$tmp"
    [ "$m" -gt "$peak" ] && peak=$m
  done
  rm -f "$tmp"
  awk -v ns="$((end - start))" -v n="$runs" -v p="$peak" 'BEGIN { print ns / 1e9 / n, p }'
}

read -r k_t k_m < <(measure kubectl kustomize "$dir")
read -r f_t f_m < <(measure "$bin" build "$dir")
objects=$("$bin" build "$dir" | grep -c '^kind:' || true)

printf 'input: %s (%s objects), %s runs each\n' "$dir" "$objects" "$runs"
printf '%-20s %12s %14s\n' tool 'time/run (s)' 'peak RSS (kB)'
printf '%-20s %12.4f %14d\n' 'kubectl kustomize' "$k_t" "$k_m"
printf '%-20s %12.4f %14d\n' 'kfp-aws build' "$f_t" "$f_m"
awk -v kt="$k_t" -v ft="$f_t" -v km="$k_m" -v fm="$f_m" 'BEGIN {
  printf "speed-up: %.1fx   peak memory: %.1fx less\n", kt / ft, km / fm
}'
