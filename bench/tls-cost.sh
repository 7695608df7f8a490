#!/usr/bin/env bash
# What TLS costs: the same optimised `mantad dev` (our crates at opt-level 3,
# as scripts/dev.sh builds them) run in HTTPS (its default) and with
# --plain-http, one after the other in one run, interleaved ROUNDS times so
# a drift in the machine shows; each run starts from empty data. Workloads
# (mantabench, signed Manta requests, a fresh connection pool per run):
#  - 4 KiB PUT then GET, concurrency 16: ops/s;
#  - 64 MiB PUT then GET, concurrency 4: MB/s.
# Prints one JSON line per run and workload, then the HTTPS/plain ratios of
# the means (1.0 = no cost; 0.8 = TLS is 20% slower).
# Usage: bench/tls-cost.sh [N_SMALL] [N_LARGE] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
n_small=${1:-2000}
n_large=${2:-8}
rounds=${3:-2}
CARGO_PROFILE_DEV_OPT_LEVEL=3 cargo build -q --bin mantad --bin mantabench
bin="$CARGO_TARGET_DIR/debug"
work=$(mktemp -d /var/tmp/mantabench-tls.XXXXXX)
pid=""
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

# The value of `export NAME=...` in an env.sh.
env_of() { sed -n "s/^export $2=//p" "$1"; }

run() {
  local mode=$1 round=$2 data="$work/data-$1-$2" flags=()
  # Below the kernel's ephemeral range, where the roles' own ports land.
  local port=$((20000 + RANDOM % 10000))
  [ "$mode" = plain ] && flags=(--plain-http)
  RUST_LOG=warn "$bin/mantad" dev --data "$data" --listen "127.0.0.1:$port" \
    --s3-listen "127.0.0.1:$((port + 1))" --admin-listen "127.0.0.1:$((port + 2))" \
    --jobs-runtime runc "${flags[@]}" >"$work/mantad-$mode-$round.log" 2>&1 &
  pid=$!
  # Up once env.sh is complete (written after the dev account is ready).
  for _ in $(seq 600); do
    grep -q AWS_SECRET_ACCESS_KEY "$data/env.sh" 2>/dev/null && break
    kill -0 $pid 2>/dev/null || { tail -5 "$work/mantad-$mode-$round.log" >&2; exit 1; }
    sleep 0.2
  done
  local url ca tls=()
  url=$(env_of "$data/env.sh" MANTA_URL)
  ca=$(env_of "$data/env.sh" MANTA_CA_FILE)
  [ -n "$ca" ] && tls=(--ca-file "$ca")
  local common=(--url "$url" --user dev --key "$data/keys/dev/id_ed25519" "${tls[@]}")
  echo "{\"mode\":\"$mode\",\"round\":$round,\"url\":\"$url\",\"workload\":\"4KiB c16\",\"result\":$(
    env -u MANTA_CA_FILE "$bin/mantabench" put-get "${common[@]}" -n "$n_small" -s 4KiB -c 16 --dir small)}"
  echo "{\"mode\":\"$mode\",\"round\":$round,\"url\":\"$url\",\"workload\":\"64MiB c4\",\"result\":$(
    env -u MANTA_CA_FILE "$bin/mantabench" put-get "${common[@]}" -n "$n_large" -s 64MiB -c 4 --dir large)}"
  kill $pid; wait $pid 2>/dev/null || true; pid=""
}

for round in $(seq "$rounds"); do
  run https "$round"
  run plain "$round"
done | tee "$work/results.jsonl"

python3 - "$work/results.jsonl" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
def mean(mode, workload, phase, key):
    return statistics.mean(r["result"][phase][key] for r in runs
                           if r["mode"] == mode and r["workload"] == workload)
ratios = {}
for name, workload, phase, key in [
    ("put_4KiB_ops_per_sec", "4KiB c16", "put", "ops_per_sec"),
    ("get_4KiB_ops_per_sec", "4KiB c16", "get", "ops_per_sec"),
    ("put_64MiB_mb_per_sec", "64MiB c4", "put", "mb_per_sec"),
    ("get_64MiB_mb_per_sec", "64MiB c4", "get", "mb_per_sec"),
]:
    https, plain = mean("https", workload, phase, key), mean("plain", workload, phase, key)
    ratios[name] = {"https": round(https, 1), "plain": round(plain, 1),
                    "https_over_plain": round(https / plain, 3)}
print(json.dumps({"tls_cost": ratios}))
PY
