#!/bin/sh
# mpipe [-p] [-r reducer] [-H 'header: value']... [-f file] [path]
# Saves stdin (or file) as one task output; stdout is then not captured.
PROG=mpipe
. /opt/manta/bin/.spool.sh

usage() {
    echo "usage: mpipe [-p] [-r reducer] [-H 'header: value']... [-f file] [path]" >&2
    exit 2
}

spool_new
spool_meta kind output
file=
while getopts "pr:H:f:" opt; do
    case $opt in
    p) spool_meta mkdirs true ;;
    r) check_count -r "$OPTARG" && spool_meta reducer "$OPTARG" ;;
    H) one_line -H "$OPTARG" && spool_meta header "$OPTARG" ;;
    f) file=$OPTARG ;;
    *) usage ;;
    esac
done
shift $((OPTIND - 1))
[ $# -le 1 ] || usage
if [ $# -eq 1 ]; then
    check_path "$1"
    spool_meta path "$1"
fi
if [ -n "$file" ]; then
    cat -- "$file" >"$SPOOL_ID.data" || die "cannot read $file"
else
    cat >"$SPOOL_ID.data" || die "cannot read stdin"
fi
spool_commit
