#!/usr/bin/env bash
# The README's first command: set up, build, and run a whole cluster here.
# Extra arguments go to `mantad dev` (e.g. --data DIR, --listen ADDR).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
. scripts/env.sh
# mantad and the m* commands (env.sh puts them on PATH).
cargo build --bins
exec "$CARGO_TARGET_DIR/debug/mantad" dev "$@"
