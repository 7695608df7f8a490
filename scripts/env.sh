# Sourced by the other scripts: one cargo target dir outside the clone, so
# RocksDB (a 10+ minute C++ build) is built once and reused by every run.
if [ -z "${CARGO_TARGET_DIR:-}" ]; then
  if [ -w /var/cache ] || mkdir -p /var/cache/mantad-target 2>/dev/null; then
    export CARGO_TARGET_DIR=/var/cache/mantad-target
  else
    export CARGO_TARGET_DIR="$HOME/.cache/mantad-target"
  fi
fi
mkdir -p "$CARGO_TARGET_DIR"
export MANTA_NODE_BIN="${MANTA_NODE_PREFIX:-/var/cache/mantad-node}/node_modules/manta/bin"
