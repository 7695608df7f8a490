#!/usr/bin/env bash
# One run of the store-core figures, all on this machine in the same run:
#  - raw sequential write speed (dd, 1 GiB, fdatasync) as the baseline;
#  - 4 KiB PUT and GET ops/s at concurrency 16 (mantabench);
#  - 64 MiB PUT and GET MB/s;
#  - mantad's peak RSS while one 1 GiB object is uploaded (VmHWM).
# Usage: bench/run-core.sh [N_SMALL] [N_LARGE]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
n_small=${1:-2000}
n_large=${2:-8}
cargo build -q --bin mantad --bin mantabench
bin="$CARGO_TARGET_DIR/debug"
work=$(mktemp -d /var/tmp/mantabench.XXXXXX)
port=$((20000 + RANDOM % 20000))
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT

echo "== dd: raw sequential write, 1 GiB, conv=fdatasync (same disk as the data)" >&2
dd if=/dev/zero of="$work/dd.bin" bs=1M count=1024 conv=fdatasync 2>&1 | tail -1
rm -f "$work/dd.bin"

# Plain HTTP, as these figures always were (bench/tls-cost.sh measures TLS).
RUST_LOG=warn "$bin/mantad" dev --data "$work/data" --listen "127.0.0.1:$port" \
  --s3-listen "127.0.0.1:$((port + 1))" --plain-http >"$work/mantad.log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/ping" >/dev/null && break; sleep 0.2; done
url="http://127.0.0.1:$port"
export MANTA_DEV_KEY="$work/data/keys/dev/id_ed25519"

echo "== 4 KiB objects, concurrency 16" >&2
"$bin/mantabench" put-get --url "$url" --user dev -n "$n_small" -s 4KiB -c 16 --dir small
echo "== 64 MiB objects, concurrency 4" >&2
"$bin/mantabench" put-get --url "$url" --user dev -n "$n_large" -s 64MiB -c 4 --dir large

echo "== peak RSS of mantad while a 1 GiB object is uploaded" >&2
before=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
# Reset the high-water mark so it measures this upload alone.
echo 5 > /proc/$pid/clear_refs
"$bin/mantabench" put-get --url "$url" --user dev -n 1 -s 1GiB -c 1 --dir huge >/dev/null
hwm=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
echo "{\"rss_before_kib\":$before,\"peak_rss_kib\":$hwm}"
