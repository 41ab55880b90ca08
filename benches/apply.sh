#!/usr/bin/env bash
# `kfp-aws apply --overlay iam` (the full render, CRDs included) against
# `kubectl apply --server-side -f` of the same render, both against the same
# real control plane (scripts/kube-peer: etcd, kube-apiserver and
# kube-controller-manager on 127.0.0.1), run alternately, as the ratio of the
# median times.
#
# Every run installs into a namespace of its own, so both tools create every
# namespaced object; the CRDs exist after the warm-up run of each (both then
# send them again and the server finds them unchanged).
#
#   benches/apply.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-7}"
unset RUST_BACKTRACE
command -v kubectl >/dev/null || { echo "kubectl is needed for the comparison" >&2; exit 2; }
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-target}/release/kfp-aws"
. benches/lib.sh

work=$(mktemp -d)
trap 'scripts/kube-peer down "$work/peer" || true; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM HUP
scripts/kube-peer up "$work/peer"
kc="$work/peer/kubeconfig"
params=(--overlay iam --params params/params.env --secrets params/secrets.env.example)

kfp_run() { # namespace
  "$bin" apply "${params[@]}" --set "namespace=$1" --kubeconfig "$kc" >/dev/null 2>&1
}
kubectl_run() { # namespace
  "$bin" render "${params[@]}" --set "namespace=$1" >"$work/$1.yaml" 2>/dev/null
  local s e
  s=${EPOCHREALTIME/./}
  kubectl --kubeconfig "$kc" apply --server-side -f "$work/$1.yaml" >/dev/null
  e=${EPOCHREALTIME/./}
  echo $((e - s))
}
timed_kfp() {
  local s e
  s=${EPOCHREALTIME/./}
  kfp_run "$1"
  e=${EPOCHREALTIME/./}
  echo $((e - s))
}

# Warm-up (and the CRDs): one run each, not counted.
timed_kfp bench-kfp-0 >/dev/null
kubectl_run bench-kubectl-0 >/dev/null
ta=() tb=()
for i in $(seq "$runs"); do
  ta+=("$(timed_kfp "bench-kfp-$i")")
  tb+=("$(kubectl_run "bench-kubectl-$i")")
done
f=$(median_s "${ta[@]}")
k=$(median_s "${tb[@]}")
objects=$("$bin" render "${params[@]}" 2>/dev/null | grep -c '^kind:' || true)
version=$(kubectl --kubeconfig "$kc" version -o json 2>/dev/null | sed -n 's/.*"gitVersion": *"\(v[^"]*\)".*/\1/p' | tail -1)
printf 'input: overlays/iam with the example parameters, %s objects (CRDs included), a fresh namespace per run, %s runs each\n' "$objects" "$runs"
printf 'server: kube-apiserver %s on 127.0.0.1 (scripts/kube-peer)\n' "$version"
printf '%-44s %12s\n' tool 'median (s)'
printf '%-44s %12.3f\n' 'kubectl apply --server-side -f render.yaml' "$k"
printf '%-44s %12.3f\n' 'kfp-aws apply --overlay iam' "$f"
awk -v k="$k" -v f="$f" 'BEGIN { printf "kfp-aws takes %.2fx the time of kubectl (speed-up %.1fx)\n", f / k, k / f }'
