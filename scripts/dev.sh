#!/usr/bin/env bash
# The README's first command: set up, build, and run a whole cluster here.
# Extra arguments go to `mantad dev` (e.g. --data DIR, --listen ADDR).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
. scripts/env.sh
cargo build --bin mantad
exec "$CARGO_TARGET_DIR/debug/mantad" dev "$@"
