#!/usr/bin/env bash
# The README's second command: set up, check formatting and lints, run every
# test of the workspace (unit, integration through real HTTP, multi-process).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
. scripts/env.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
# The SDK must not depend on any server crate.
if cargo tree -p client-sdk -e normal --prefix none | grep -E '^(frontend|storage-node|metadata-tier|jobs) ' ; then
  echo "client-sdk depends on a server crate" >&2
  exit 1
fi
cargo test --workspace --all-targets
