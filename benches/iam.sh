#!/usr/bin/env bash
# `kfp-aws build overlays/iam` against `kubectl kustomize overlays/iam` on
# the same copy of the manifest tree (with the example secrets), in the same
# run, as ratios of time per run and peak memory.
#
#   benches/iam.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20}"
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
cp -r base crds overlays params components "$tree"/
cp params/secrets.env.example "$tree/params/secrets.env"
benches/compare.sh "$tree/overlays/iam" "$runs"
