#!/bin/sh
# msplit [-n N] [-d delim] [-f field[,field...]] [-i] [-j] [-e js] [-z]
# Partitions stdin's lines among N reducers of the next phase by key, as
# Manta's msplit. The agent does the routing once the task has exited: by
# text fields, or by JSON fields (-j). With -e, the JavaScript runs here,
# in the task's container, with the image's node (.msplit.js): each line
# goes to the spool prefixed by its reducer. -z gzips every partition.
PROG=msplit
. /opt/manta/bin/.spool.sh

usage() {
    [ $# -eq 0 ] || echo "msplit: $*" >&2
    echo "usage: msplit [-n number_of_reducers] [-d delimiter] [-f field_list]" >&2
    echo "              [-i] [-j] [-e javascript] [-z]" >&2
    exit 2
}

count=1
delim='	'
fields=
int=false
json=false
gzip=false
exec_set=
exec_js=
while getopts "n:d:f:e:ijtz" opt; do
    case $opt in
    n) check_count -n "$OPTARG" && count=$OPTARG ;;
    d) one_line -d "$OPTARG" && delim=$OPTARG ;;
    # Several -f add up, as Manta's.
    f) fields=${fields:+$fields,}$OPTARG ;;
    e) exec_set=1 exec_js=$OPTARG ;;
    i) int=true ;;
    j) json=true ;;
    t) ;;
    z) gzip=true ;;
    *) usage ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage
[ "$count" -ge 1 ] || die "-n: at least one reducer"
[ -n "$delim" ] || die "-d: empty delimiter"
one_line -f "$fields"

if [ -n "$exec_set" ]; then
    if ! command -v node >/dev/null 2>&1; then
        # A committed `invalid` record fails the task whatever the
        # pipeline does with this exit status.
        why="msplit -e needs node in the task's image, and this image has none: run the phase in an image with node (the phase's \"image\", docs/jobs.md)"
        spool_new
        spool_meta kind invalid
        spool_meta message "$why"
        spool_commit
        die "-e needs node in the task's image: use an image with node"
    fi
    spool_new
    node /opt/manta/bin/.msplit.js "$count" "$json" "$int" "$exec_js" >"$SPOOL_ID.data" || exit $?
    spool_meta kind split
    spool_meta count "$count"
    spool_meta routed true
    spool_meta gzip "$gzip"
    spool_commit
    exit 0
fi

if [ "$json" = true ]; then
    [ -n "$fields" ] || usage "no fields specified"
else
    case "${fields:=1}" in
    *[!0-9,]* | ,* | *, | *,,*) die "-f: not a list of field numbers: $fields" ;;
    esac
fi
spool_new
spool_meta kind split
spool_meta count "$count"
spool_meta delim "$delim"
spool_meta fields "$fields"
spool_meta json "$json"
spool_meta int "$int"
spool_meta gzip "$gzip"
cat >"$SPOOL_ID.data" || die "cannot read stdin"
spool_commit
