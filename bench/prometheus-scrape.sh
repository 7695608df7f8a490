#!/usr/bin/env bash
# A real Prometheus scraping a real mantad: starts `mantad dev` with its
# admin listener, a Prometheus (Debian's package, installed if missing)
# scraping it every second, makes N anonymous requests, then asks
# Prometheus' HTTP API for mantad_http_requests_total and checks it counted
# exactly N, in a scrape taken after the last request. Prints the result;
# exits 1 on a mismatch.
# Usage: bench/prometheus-scrape.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
n=${1:-500}

if ! command -v prometheus >/dev/null 2>&1; then
  echo "prometheus-scrape: apt-get install prometheus" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  # Keep the package's own service from starting: this script runs its own.
  policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod +x "$policy"
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  [ -z "$policy" ] || $SUDO rm -f "$policy"
fi
command -v jq >/dev/null 2>&1 || { echo "prometheus-scrape: needs jq" >&2; exit 1; }

cargo build -q --bin mantad
work=$(mktemp -d /var/tmp/prometheus-scrape.XXXXXX)
base=$((20000 + RANDOM % 20000))
api="127.0.0.1:$base" admin="127.0.0.1:$((base + 2))" prom="127.0.0.1:$((base + 3))"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

RUST_LOG=warn "$CARGO_TARGET_DIR/debug/mantad" dev --data "$work/data" --listen "$api" \
  --s3-listen "127.0.0.1:$((base + 1))" --admin-listen "$admin" --jobs-runtime runc \
  >"$work/mantad.log" 2>&1 &
pids+=($!)

cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: mantad
    static_configs:
      - targets: ["$admin"]
EOF
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="$prom" >"$work/prometheus.log" 2>&1 &
pids+=($!)

wait_for() { # URL WHAT
  for _ in $(seq 300); do curl -sf "$1" >/dev/null && return 0; sleep 0.2; done
  echo "prometheus-scrape: $2 never answered ($1)" >&2
  tail -20 "$work/mantad.log" "$work/prometheus.log" >&2
  exit 1
}
wait_for "http://$api/ping" "mantad"
wait_for "http://$prom/-/ready" "prometheus"

# query EXPR: the first sample's value, or "none".
query() {
  curl -sf "http://$prom/api/v1/query" --data-urlencode "query=$1" |
    jq -r '.data.result[0].value[1] // "none"'
}
for _ in $(seq 100); do [ "$(query 'up{job="mantad"}')" = 1 ] && break; sleep 0.2; done
[ "$(query 'up{job="mantad"}')" = 1 ] || { echo "prometheus-scrape: target not up" >&2; exit 1; }

# N anonymous reads of a missing public object: 404s, a series nothing else
# touches (the readiness pings above are /ping, 200).
series='mantad_http_requests_total{job="mantad",listener="manta",method="GET",status="404"}'
before=$(query "sum($series)")
[ "$before" = none ] && before=0
for i in $(seq "$n"); do
  curl -s -o /dev/null "http://$api/dev/public/prometheus-scrape-$i"
done
sent_at=$(date +%s.%N)

# Wait for a scrape that began after the last request.
for _ in $(seq 100); do
  at=$(query "max(timestamp($series))")
  [ "$at" != none ] && awk -v a="$at" -v s="$sent_at" 'BEGIN { exit !(a > s) }' && break
  sleep 0.2
done
after=$(query "sum($series)")
labels=$(curl -sf "http://$prom/api/v1/query" --data-urlencode "query=$series" |
  jq -c '[.data.result[].metric | {route, status}]')
counted=$((${after%.*} - ${before%.*}))
echo "prometheus $(prometheus --version 2>&1 | head -1 | awk '{print $3}') scraping mantad every 1s:"
echo "  requests made:           $n (anonymous GET of a missing public object)"
echo "  series:                  $series $labels"
echo "  counted by Prometheus:   $counted (before $before, after $after)"
if [ "$counted" -ne "$n" ]; then
  echo "MISMATCH: Prometheus counted $counted of $n requests" >&2
  exit 1
fi
echo "OK: Prometheus' count equals the requests made"
