#!/usr/bin/env bash
# Durability figures (docs/durability.md): scrub rate against a plain read
# of the same files, time to re-replicate after a node loss, bytes freed by
# garbage collection against bytes deleted. One in-process cluster of three
# nodes, 256 objects of 4 MiB (1 GiB, 2 GiB of copies), optimised build.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
# Our crates at opt-level 3, dependencies as always (see scripts/dev.sh).
CARGO_PROFILE_DEV_OPT_LEVEL=3 exec cargo run -p frontend --example durability_figures
