#!/usr/bin/env bash
# The README's first command: set up, build, and run a whole cluster here.
# Extra arguments go to `mantad dev` (e.g. --data DIR, --listen ADDR).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
. scripts/env.sh
# mantad and the m* commands (env.sh puts them on PATH), with our own crates
# optimised too. Only the opt-level of the workspace's crates changes: every
# dependency is already built at opt-level 3 by the dev profile's
# `package."*"` override, so this reuses the RocksDB the tests built
# (a `--release` build would compile it a second time). bench/run-opt.sh
# measures what it buys.
CARGO_PROFILE_DEV_OPT_LEVEL=3 cargo build --bins
exec "$CARGO_TARGET_DIR/debug/mantad" dev "$@"
