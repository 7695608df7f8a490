#!/usr/bin/env bash
# One run of the jobs figures, all on this machine in the same run:
#  1. a job over N small objects (map `wc -c`, one reducer summing), under
#     runsc and under runc: wall time from `mjob create` to its output, and
#     tasks per second;
#  2. the word-frequency job (map tr|tr|sort|uniq -c, reduce summing) over
#     MIB MiB of text in 16 MiB objects, under runc and runsc, against the same
#     pipeline on the host over the same bytes (GNU tools, LC_ALL=C, as in
#     the default image); the outputs are compared.
# Usage: [RUNTIMES="runc runsc"] bench/run-jobs.sh [N_SMALL] [MIB] [BIN_DIR]
#   BIN_DIR defaults to the debug build; pass e.g. /var/cache/mantad-release/release
#   after `CARGO_TARGET_DIR=/var/cache/mantad-release cargo build --release --bins`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
n_small=${1:-1000}
mib=${2:-1024}
bin=${3:-}
if [ -z "$bin" ]; then
  cargo build -q --bins
  bin="$CARGO_TARGET_DIR/debug"
fi
work=$(mktemp -d /var/tmp/mantajobs.XXXXXX)
port=$((20000 + RANDOM % 20000))
pid=
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
export PATH="$bin:$PATH"

map="tr -cs A-Za-z '\n' | tr A-Z a-z | sort | uniq -c"
reduce="awk '{c[\$2] += \$1} END {for (w in c) print c[w], w}'"

echo "== generating $mib MiB of text in 16 MiB files" >&2
python3 bench/gen-text.py "$work/text" $((mib / 16)) 16
mkdir -p "$work/small"
for i in $(seq -w 1 "$n_small"); do echo "object $i of the small set" >"$work/small/o$i"; done

echo "== host: the same pipeline over the same bytes" >&2
s=$(date +%s.%N)
cat "$work"/text/* | LC_ALL=C sh -c "$map" >"$work/host.out"
host_gnu=$(echo "$(date +%s.%N) - $s" | bc)
printf 'host (GNU tools, LC_ALL=C): %.1f s\n' "$host_gnu"

start_dev() {
  port=$((port + 2))
  RUST_LOG=warn "$bin/mantad" dev --data "$work/data-$1" --listen "127.0.0.1:$port" \
    --s3-listen "127.0.0.1:$((port + 1))" --jobs-runtime "$1" >"$work/mantad-$1.log" 2>&1 &
  pid=$!
  for _ in $(seq 300); do [ -f "$work/data-$1/env.sh" ] && break; sleep 0.2; done
  [ -f "$work/data-$1/env.sh" ] || { echo "mantad dev ($1) did not start:" >&2; cat "$work/mantad-$1.log" >&2; exit 1; }
  # shellcheck disable=SC1090
  . "$work/data-$1/env.sh"
  export PATH="$bin:$PATH"
}

stop_dev() {
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=
}

# Sums the agents' map input counters, as `mantad nodes` reports them (the
# agents answer only callers holding the cluster secret, which it reads
# from the frontend config).
agent_locality() {
  "$bin/mantad" nodes --config "$1" | python3 -c '
import json, sys
local = remote = n = 0
for line in sys.stdin:
    agent = json.loads(line)["agent"]
    local += agent.get("map_local_bytes", 0)
    remote += agent.get("map_remote_bytes", 0)
    n += 1
print("  map input read locally: %d bytes, remotely: %d bytes (%d nodes)" % (local, remote, n))
'
}

timed_job() { # prints seconds; output to $1
  local out=$1
  shift
  local s
  s=$(date +%s.%N)
  "$@" >"$out"
  echo "$(date +%s.%N) - $s" | bc
}

for rt in ${RUNTIMES:-runc runsc}; do
  start_dev "$rt"
  mput -q -f "$work/small" ~~/stor/small >/dev/null
  mput -q -f "$work/text" ~~/stor/text >/dev/null
  t=$(timed_job "$work/small.out" sh -c "mfind -t o ~~/stor/small | mjob create -o -m 'wc -c' -r \"awk '{s += \\\$1} END {print s}'\" 2>/dev/null")
  want=$(cat "$work"/small/* | wc -c)
  got=$(cat "$work/small.out")
  [ "$got" = "$want" ] || { echo "small job: got $got, want $want" >&2; exit 1; }
  printf '%s: %d-input job %.1f s = %.1f tasks/s (%d tasks incl. the reducer)\n' \
    "$rt" "$n_small" "$t" "$(echo "($n_small + 1) / $t" | bc -l)" $((n_small + 1))
  t=$(timed_job "$work/words.out" sh -c "mfind -t o ~~/stor/text | mjob create -o -m \"\$0\" -r \"\$1\" 2>/dev/null" "$map" "$reduce")
  if diff <(awk '{print $2, $1}' "$work/words.out" | sort) <(awk '{print $2, $1}' "$work/host.out" | sort) >/dev/null; then
    same=identical
  else
    same=DIFFERENT
  fi
  printf '%s: word frequency over %d MiB %.1f s = %.2fx the host (output %s to the host'"'"'s)\n' \
    "$rt" "$mib" "$t" "$(echo "$t / $host_gnu" | bc -l)" "$same"
  agent_locality "$work/data-$rt/frontend.toml"
  stop_dev
done
