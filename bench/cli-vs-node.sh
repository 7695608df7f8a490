#!/usr/bin/env bash
# Times our m* commands against node-manta's on the same running `mantad dev`:
# upload then download COUNT files of 4 KiB, then one BIG_MB file, and prints
# the time of each and the ratio node/ours (above 1 means ours is faster).
#
#   mantad dev --data ./data &          # in another shell
#   source ./data/env.sh                # MANTA_URL, MANTA_USER, MANTA_KEY_ID
#   bench/cli-vs-node.sh                # COUNT=1000 BIG_MB=1024 PAR=32
#
# The key: MANTA_DEV_KEY (set by env.sh) is copied into a private HOME/.ssh
# for both clients, so neither needs ssh-agent. BIG_MB=0 skips the big file.
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT=${COUNT:-1000}
BIG_MB=${BIG_MB:-1024}
PAR=${PAR:-32}
NODE_BIN=${MANTA_NODE_BIN:-/var/cache/mantad-node/node_modules/manta/bin}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/cache/mantad-target}
: "${MANTA_URL:?source the data/env.sh that mantad dev wrote}"
: "${MANTA_USER:?source the data/env.sh that mantad dev wrote}"
: "${MANTA_KEY_ID:?source the data/env.sh that mantad dev wrote}"
[ -x "$NODE_BIN/mput" ] || { echo "node-manta not found in $NODE_BIN (scripts/setup.sh)" >&2; exit 1; }

cargo build --release -q -p client-sdk --bins
RS_BIN="$CARGO_TARGET_DIR/release"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
if [ -n "${MANTA_DEV_KEY:-}" ]; then
    mkdir -p "$WORK/home/.ssh"
    cp "$MANTA_DEV_KEY" "$MANTA_DEV_KEY.pub" "$WORK/home/.ssh/"
    export HOME="$WORK/home"
fi

mkdir -p "$WORK/small"
for i in $(seq 1 "$COUNT"); do head -c 4096 /dev/urandom > "$WORK/small/f$i"; done

now() { date +%s.%N; }
# elapsed START -> seconds with 3 decimals
since() { echo "$(now) - $1" | bc -l | xargs printf '%.3f'; }
ratio() { echo "$1 / $2" | bc -l | xargs printf '%.2f'; }

RUN=$$
RS_DIR="~~/stor/bench-cli-$RUN/rs"
NODE_DIR="~~/stor/bench-cli-$RUN/node"
"$RS_BIN/mmkdir" -p "$RS_DIR/small" "$NODE_DIR/small"

echo "== $COUNT files of 4 KiB, $PAR at a time"
t=$(now)
"$RS_BIN/mput" -q -P "$PAR" -f "$WORK/small" "$RS_DIR/small"
rs_up=$(since "$t")
t=$(now)
"$RS_BIN/mget" -q -P "$PAR" -d "$WORK/rs-down" "$RS_DIR/small"
rs_down=$(since "$t")

# node-manta has no multi-file mput/mget: one process per file, PAR at a time.
t=$(now)
ls "$WORK/small" | xargs -P "$PAR" -I{} "$NODE_BIN/mput" -q -f "$WORK/small/{}" "$NODE_DIR/small/{}"
node_up=$(since "$t")
mkdir -p "$WORK/node-down"
t=$(now)
ls "$WORK/small" | xargs -P "$PAR" -I{} "$NODE_BIN/mget" -q -o "$WORK/node-down/{}" "$NODE_DIR/small/{}"
node_down=$(since "$t")
diff -rq "$WORK/small" "$WORK/rs-down/small" >/dev/null || { echo "our download differs" >&2; exit 1; }
diff -rq "$WORK/small" "$WORK/node-down" >/dev/null || { echo "node download differs" >&2; exit 1; }
printf '%-22s %10s %10s %8s\n' "" "ours (s)" "node (s)" "ratio"
printf '%-22s %10s %10s %8s\n' "upload $COUNT x 4 KiB" "$rs_up" "$node_up" "$(ratio "$node_up" "$rs_up")"
printf '%-22s %10s %10s %8s\n' "download $COUNT x 4 KiB" "$rs_down" "$node_down" "$(ratio "$node_down" "$rs_down")"

if [ "$BIG_MB" -gt 0 ]; then
    echo "== one file of $BIG_MB MiB"
    head -c $((BIG_MB * 1024 * 1024)) /dev/urandom > "$WORK/big"
    t=$(now); "$RS_BIN/mput" -q -f "$WORK/big" "$RS_DIR/big"; rs_up=$(since "$t")
    t=$(now); "$RS_BIN/mget" -q -o "$WORK/big.rs" "$RS_DIR/big"; rs_down=$(since "$t")
    t=$(now); "$NODE_BIN/mput" -q -f "$WORK/big" "$NODE_DIR/big"; node_up=$(since "$t")
    t=$(now); "$NODE_BIN/mget" -q -o "$WORK/big.node" "$NODE_DIR/big"; node_down=$(since "$t")
    cmp -s "$WORK/big" "$WORK/big.rs" || { echo "our big download differs" >&2; exit 1; }
    cmp -s "$WORK/big" "$WORK/big.node" || { echo "node big download differs" >&2; exit 1; }
    printf '%-22s %10s %10s %8s\n' "upload $BIG_MB MiB" "$rs_up" "$node_up" "$(ratio "$node_up" "$rs_up")"
    printf '%-22s %10s %10s %8s\n' "download $BIG_MB MiB" "$rs_down" "$node_down" "$(ratio "$node_down" "$rs_down")"
fi

"$RS_BIN/mrm" -r "~~/stor/bench-cli-$RUN"
