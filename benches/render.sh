#!/usr/bin/env bash
# `kfp-aws render --overlay iam --no-crds` (embedded tree, example
# parameters) against `kubectl kustomize overlays/iam` on the same tree, in the
# same run, as ratios of time per run and peak memory.
#
#   benches/render.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20}"
unset RUST_BACKTRACE
command -v kubectl >/dev/null || { echo "kubectl is needed for the comparison" >&2; exit 2; }
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-target}/release/kfp-aws"

tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
cp -r base crds overlays params components "$tree"/
cp params/secrets.env.example "$tree/params/secrets.env"

# Same output first.
if ! diff -q <("$bin" render --overlay iam --no-crds 2>/dev/null) <(kubectl kustomize "$tree/overlays/iam" 2>/dev/null) >/dev/null; then
  echo "outputs differ; fix that before measuring" >&2
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

read -r k_t k_m < <(measure kubectl kustomize "$tree/overlays/iam")
read -r f_t f_m < <(measure "$bin" render --overlay iam --no-crds)
objects=$("$bin" render --overlay iam --no-crds 2>/dev/null | grep -c '^kind:' || true)
printf 'input: overlays/iam with the example parameters (%s objects), %s runs each\n' "$objects" "$runs"
printf '%-32s %12s %14s\n' tool 'time/run (s)' 'peak RSS (kB)'
printf '%-32s %12.4f %14d\n' 'kubectl kustomize overlays/iam' "$k_t" "$k_m"
printf '%-32s %12.4f %14d\n' 'kfp-aws render --overlay iam' "$f_t" "$f_m"
awk -v kt="$k_t" -v ft="$f_t" -v km="$k_m" -v fm="$f_m" 'BEGIN {
  printf "speed-up: %.1fx   peak memory: %.1fx less\n", kt / ft, km / fm
}'
