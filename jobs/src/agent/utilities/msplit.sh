#!/bin/sh
# msplit [-n N] [-d delim] [-f field[,field...]] [-i]
# Partitions stdin's lines among N reducers of the next phase by key; the
# agent does the routing once the task has exited.
PROG=msplit
. /opt/manta/bin/.spool.sh

usage() {
    echo "usage: msplit [-n reducers] [-d delimiter] [-f field[,field...]] [-i]" >&2
    exit 2
}

count=1
delim='	'
fields=1
int=
while getopts "n:d:f:i" opt; do
    case $opt in
    n) check_count -n "$OPTARG" && count=$OPTARG ;;
    d) one_line -d "$OPTARG" && delim=$OPTARG ;;
    f) fields=$OPTARG ;;
    i) int=true ;;
    *) usage ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage
[ "$count" -ge 1 ] || die "-n: at least one reducer"
[ -n "$delim" ] || die "-d: empty delimiter"
case "$fields" in
'' | *[!0-9,]* | ,* | *, | *,,*) die "-f: not a list of field numbers: $fields" ;;
esac
spool_new
spool_meta kind split
spool_meta count "$count"
spool_meta delim "$delim"
spool_meta fields "$fields"
[ -z "$int" ] || spool_meta int true
cat >"$SPOOL_ID.data" || die "cannot read stdin"
spool_commit
