#!/bin/sh
# mtee [-p] path
# Copies stdin to stdout and saves a copy as an ordinary object (not an
# output) at path.
PROG=mtee
. /opt/manta/bin/.spool.sh

usage() {
    echo "usage: mtee [-p] path" >&2
    exit 2
}

mkdirs=
while getopts "p" opt; do
    case $opt in
    p) mkdirs=true ;;
    *) usage ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage
check_path "$1"
spool_new
spool_meta kind save
spool_meta path "$1"
[ -z "$mkdirs" ] || spool_meta mkdirs true
tee "$SPOOL_ID.data" || die "cannot copy stdin"
spool_commit
