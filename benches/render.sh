#!/usr/bin/env bash
# `kfp-aws render --overlay iam` (embedded tree, example parameters, CRDs
# included) against the two kubectl builds it replaces, `kubectl kustomize
# crds` followed by `kubectl kustomize overlays/iam`, on the same tree in the
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

# Both kubectl builds, printed as render prints them (a `---` between).
kubectl_both() {
  kubectl kustomize "$tree/crds" && echo --- && kubectl kustomize "$tree/overlays/iam"
}

# Same output first.
if ! diff -q <("$bin" render --overlay iam 2>/dev/null) <(kubectl_both 2>/dev/null) >/dev/null; then
  echo "outputs differ; fix that before measuring" >&2
  exit 1
fi

. benches/lib.sh

A=(kubectl_both)
# Peak memory of the kubectl side: the larger of its two runs.
A_PEAK=(bash -c 'kubectl kustomize "$1/crds" >/dev/null && kubectl kustomize "$1/overlays/iam"' _ "$tree")
B=("$bin" render --overlay iam)
read -r k_t k_m f_t f_m < <(measure_pair)
objects=$("$bin" render --overlay iam 2>/dev/null | grep -c '^kind:' || true)
printf 'input: crds + overlays/iam with the example parameters (%s objects), %s runs each\n' "$objects" "$runs"
report 'kubectl kustomize crds + iam' "$k_t" "$k_m" 'kfp-aws render --overlay iam' "$f_t" "$f_m"
