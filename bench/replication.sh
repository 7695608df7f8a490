#!/usr/bin/env bash
# Replicated-metadata figures (docs/metadata.md), all in one run on this
# machine, optimised build:
#  - 4 KiB PUT ops/s and p99 through the Manta API (mantabench, concurrency
#    16) with shards of 3 replicas against shards of 1 (mantad dev
#    --shard-replicas), alternating, ROUNDS rounds each;
#  - the failover pause after kill -9 of a shard leader under a write load;
#  - the time a replica takes to catch up by snapshot on 1 GiB of metadata.
# Usage: bench/replication.sh [N_PUTS] [ROUNDS] [META_MIB]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
n=${1:-3000}
rounds=${2:-2}
meta_mib=${3:-1024}
export CARGO_PROFILE_DEV_OPT_LEVEL=3
cargo build -q --bin mantad --bin mantabench
cargo build -q -p metadata-tier --example raft_figures
bin="$CARGO_TARGET_DIR/debug"
work=$(mktemp -d /var/tmp/mantarepl.XXXXXX)
pid=
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT

put_round() { # replicas round
  local port=$((20000 + RANDOM % 20000))
  rm -rf "$work/data"
  RUST_LOG=warn "$bin/mantad" dev --data "$work/data" --listen "127.0.0.1:$port" \
    --s3-listen "127.0.0.1:$((port + 1))" --admin-listen "127.0.0.1:$((port + 2))" \
    --plain-http --shard-replicas "$1" --jobs-runtime runc >"$work/mantad.log" 2>&1 &
  pid=$!
  for _ in $(seq 150); do curl -sf "http://127.0.0.1:$port/ping" >/dev/null && break; sleep 0.2; done
  MANTA_DEV_KEY="$work/data/keys/dev/id_ed25519" "$bin/mantabench" put-get \
    --url "http://127.0.0.1:$port" --user dev -n "$n" -s 4KiB -c 16 --dir "r$1-$2" |
    sed "s/^/{\"replicas\":$1,\"round\":$2,\"result\":/; s/\$/}/"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
}

echo "== 4 KiB PUT/GET through the Manta API, shards of 1 vs 3 replicas" >&2
for r in $(seq "$rounds"); do
  put_round 1 "$r"
  put_round 3 "$r"
done

echo "== failover pause, snapshot catch-up of ${meta_mib} MiB of metadata" >&2
MANTAD="$bin/mantad" "$bin/examples/raft_figures" "$work/raft" "$meta_mib"
