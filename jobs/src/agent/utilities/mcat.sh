#!/bin/sh
# mcat path...
# Emits existing objects as task outputs by reference, without copying.
PROG=mcat
. /opt/manta/bin/.spool.sh

[ $# -ge 1 ] || {
    echo "usage: mcat path..." >&2
    exit 2
}
for path in "$@"; do
    check_path "$path"
done
for path in "$@"; do
    spool_new
    spool_meta kind reference
    spool_meta path "$path"
    spool_commit
done
