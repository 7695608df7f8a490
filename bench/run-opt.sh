#!/usr/bin/env bash
# What optimising our own crates buys: the same `mantad dev` built two ways
# from the same dev profile (so RocksDB and every other dependency are the
# same opt-level-3 build), measured one after the other in one run:
#  - opt0: our crates at the dev profile's opt-level 0 (`cargo build`, what
#    the tests use);
#  - opt3: our crates at opt-level 3 (what scripts/dev.sh runs).
# Each: 4 KiB PUT/GET at concurrency 16 and 64 MiB PUT/GET at concurrency 4
# (mantabench), and peak RSS while a 256 MiB object is uploaded. Prints one
# JSON line per build and workload; compare the two as ratios.
# Usage: bench/run-opt.sh [N_SMALL] [N_LARGE]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
n_small=${1:-2000}
n_large=${2:-8}
work=$(mktemp -d /var/tmp/mantabench-opt.XXXXXX)
pid=""
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

# Both builds land in target/debug; keep a copy of each binary.
cargo build -q --bin mantad --bin mantabench
cp "$CARGO_TARGET_DIR/debug/mantad" "$work/mantad-opt0"
cp "$CARGO_TARGET_DIR/debug/mantabench" "$work/mantabench"
CARGO_PROFILE_DEV_OPT_LEVEL=3 cargo build -q --bin mantad
cp "$CARGO_TARGET_DIR/debug/mantad" "$work/mantad-opt3"

run() {
  # Below the kernel's ephemeral range, where the roles' own ports land.
  local build=$1 port=$((20000 + RANDOM % 10000))
  # Plain HTTP, as these figures always were (bench/tls-cost.sh: TLS).
  RUST_LOG=warn "$work/mantad-$build" dev --data "$work/data-$build" \
    --listen "127.0.0.1:$port" --s3-listen "127.0.0.1:$((port + 1))" \
    --jobs-runtime runc --plain-http >"$work/mantad-$build.log" 2>&1 &
  pid=$!
  export MANTA_DEV_KEY="$work/data-$build/keys/dev/id_ed25519"
  # Ready once it answers and the dev account's key is written.
  for _ in $(seq 300); do
    curl -sf "http://127.0.0.1:$port/ping" >/dev/null && [ -s "$MANTA_DEV_KEY" ] && break
    kill -0 $pid 2>/dev/null || { tail -3 "$work/mantad-$build.log" >&2; exit 1; }
    sleep 0.2
  done
  local url="http://127.0.0.1:$port"
  echo "{\"build\":\"$build\",\"workload\":\"4KiB c16\",\"result\":$("$work/mantabench" put-get --url "$url" --user dev -n "$n_small" -s 4KiB -c 16 --dir small)}"
  echo "{\"build\":\"$build\",\"workload\":\"64MiB c4\",\"result\":$("$work/mantabench" put-get --url "$url" --user dev -n "$n_large" -s 64MiB -c 4 --dir large)}"
  echo 5 > /proc/$pid/clear_refs
  "$work/mantabench" put-get --url "$url" --user dev -n 1 -s 256MiB -c 1 --dir huge >/dev/null
  echo "{\"build\":\"$build\",\"peak_rss_kib\":$(awk '/VmHWM/ {print $2}' /proc/$pid/status)}"
  kill $pid; wait $pid 2>/dev/null || true; pid=""
}
# Twice each, interleaved, so a drift in the machine shows.
run opt0
run opt3
run opt0
run opt3
