# Shared by the benches: timing, peak memory and the ratio report.
# Source it after setting `runs`.

# peak CMD...: the largest peak RSS (kB) of three runs of CMD.
peak() {
  local tmp p=0 m
  tmp=$(mktemp)
  for _ in 1 2 3; do
    /usr/bin/time -f '%M' -o "$tmp" "$@" >/dev/null 2>&1
    read -r m < "$tmp"
    [ "$m" -gt "$p" ] && p=$m
  done
  rm -f "$tmp"
  echo "$p"
}

# median_s MICROSECONDS...: the median, in seconds.
median_s() {
  printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    print m / 1e6
  }'
}

# measure_pair: runs the commands in the arrays A and B alternately, $runs
# times each after one warm-up run each, so that both see the same machine
# load; prints "A-median-seconds A-peak-kB B-median-seconds B-peak-kB".
# Each run is timed on its own (bash's $EPOCHREALTIME, no extra process).
# A may name a shell function; its peak memory is then taken from the
# command in the array A_PEAK (GNU time reports the largest process).
measure_pair() {
  local ta=() tb=() s e
  "${A[@]}" >/dev/null 2>&1
  "${B[@]}" >/dev/null 2>&1
  for _ in $(seq "$runs"); do
    s=${EPOCHREALTIME/./}
    "${A[@]}" >/dev/null 2>&1
    e=${EPOCHREALTIME/./}
    ta+=($((e - s)))
    s=${EPOCHREALTIME/./}
    "${B[@]}" >/dev/null 2>&1
    e=${EPOCHREALTIME/./}
    tb+=($((e - s)))
  done
  if [ -n "${A_PEAK+x}" ]; then
    echo "$(median_s "${ta[@]}") $(peak "${A_PEAK[@]}") $(median_s "${tb[@]}") $(peak "${B[@]}")"
  else
    echo "$(median_s "${ta[@]}") $(peak "${A[@]}") $(median_s "${tb[@]}") $(peak "${B[@]}")"
  fi
}

# report KUBECTL-LABEL K_TIME K_MEM KFP-LABEL F_TIME F_MEM: the table and the ratios.
report() {
  printf '%-32s %12s %14s\n' tool 'median (s)' 'peak RSS (kB)'
  printf '%-32s %12.4f %14d\n' "$1" "$2" "$3"
  printf '%-32s %12.4f %14d\n' "$4" "$5" "$6"
  awk -v kt="$2" -v km="$3" -v ft="$5" -v fm="$6" 'BEGIN {
    printf "speed-up: %.1fx   peak memory: %.1fx less\n", kt / ft, km / fm
  }'
}
