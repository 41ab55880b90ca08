# Shared by the benches: timing, peak memory and the ratio report.
# Source it after setting `runs`.

# measure CMD...: prints "seconds-per-run peak-kB" for CMD, run $runs times
# back to back after one warm-up run; peak RSS is the largest of three runs.
measure() {
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

# report KUBECTL-LABEL K_TIME K_MEM KFP-LABEL F_TIME F_MEM: the table and the ratios.
report() {
  printf '%-32s %12s %14s\n' tool 'time/run (s)' 'peak RSS (kB)'
  printf '%-32s %12.4f %14d\n' "$1" "$2" "$3"
  printf '%-32s %12.4f %14d\n' "$4" "$5" "$6"
  awk -v kt="$2" -v km="$3" -v ft="$5" -v fm="$6" 'BEGIN {
    printf "speed-up: %.1fx   peak memory: %.1fx less\n", kt / ft, km / fm
  }'
}
