#!/usr/bin/env bash
# Does the build time grow linearly with the objects? `kfp-aws build` of ten
# namespaces' overlays built together (ten copies of overlays/iam, each with
# its own namespace and name prefix: 10x the objects) against one
# overlays/iam, in the same run; the goal is at most 12x the time. The
# ten-fold tree is also checked against `kubectl kustomize` first.
#
#   benches/linear.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20}"
unset RUST_BACKTRACE
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-target}/release/kfp-aws"

tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
cp -r base crds overlays params components "$tree"/
cp params/secrets.env.example "$tree/params/secrets.env"
mkdir "$tree/ten"
echo 'resources:' > "$tree/ten/kustomization.yaml"
for i in 0 1 2 3 4 5 6 7 8 9; do
  mkdir "$tree/ten/ns$i"
  echo "- ns$i" >> "$tree/ten/kustomization.yaml"
  printf 'namePrefix: t%s-\nnamespace: kfp-t%s\nresources:\n- ../../overlays/iam\n' "$i" "$i" \
    > "$tree/ten/ns$i/kustomization.yaml"
done

if command -v kubectl >/dev/null &&
  ! diff -q <("$bin" build "$tree/ten") <(kubectl kustomize "$tree/ten" 2>/dev/null) >/dev/null; then
  echo "outputs differ on the ten-fold tree; fix that before measuring" >&2
  exit 1
fi

. benches/lib.sh

A=("$bin" build "$tree/ten")
B=("$bin" build "$tree/overlays/iam")
read -r t10 m10 t1 m1 < <(measure_pair)
n10=$("$bin" build "$tree/ten" | grep -c '^kind:' || true)
n1=$("$bin" build "$tree/overlays/iam" | grep -c '^kind:' || true)
printf 'input: ten overlays (%s objects) and one (%s objects), %s runs each\n' "$n10" "$n1" "$runs"
printf '%-32s %12s %14s\n' tool 'median (s)' 'peak RSS (kB)'
printf '%-32s %12.4f %14d\n' 'kfp-aws build ten' "$t10" "$m10"
printf '%-32s %12.4f %14d\n' 'kfp-aws build overlays/iam' "$t1" "$m1"
awk -v a="$t10" -v b="$t1" -v n10="$n10" -v n1="$n1" 'BEGIN {
  printf "objects: %.1fx   time: %.1fx (goal: at most 12x)\n", n10 / n1, a / b
}'
