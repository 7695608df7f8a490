# Sourced by the Manta utilities (mpipe, mcat, mtee, msplit): the spool
# protocol of docs/jobs-agent.md. A record is $MANTA_SPOOL/<id> (reserved
# with mktemp), its bytes in <id>.data and its description in <id>.meta,
# `key value` lines written to <id>.meta.tmp and renamed last: the commit.
# The agent reads committed records once the task has exited.

die() {
    echo "$PROG: $*" >&2
    exit 1
}

spool_new() {
    [ -n "$MANTA_SPOOL" ] && [ -d "$MANTA_SPOOL" ] || die "MANTA_SPOOL is not set"
    SPOOL_ID=$(mktemp "$MANTA_SPOOL/r.XXXXXXXXXX") || die "cannot write to $MANTA_SPOOL"
}

# Appends one `key value` line to the record being built.
spool_meta() {
    printf '%s %s\n' "$1" "$2" >>"$SPOOL_ID.meta.tmp" || die "cannot write to $MANTA_SPOOL"
}

spool_commit() {
    mv "$SPOOL_ID.meta.tmp" "$SPOOL_ID.meta" || die "cannot write to $MANTA_SPOOL"
}

# A value must fit on one meta line.
one_line() {
    case "$2" in
    *'
'*) die "$1 must not contain a newline" ;;
    esac
}

# Manta paths are absolute; anything else fails the task with
# InvalidArgumentError (a committed `invalid` record tells the agent).
check_path() {
    case "$1" in
    /*) one_line path "$1" ;;
    *)
        spool_new
        spool_meta kind invalid
        spool_meta message "$PROG: $1 is not an absolute Manta path"
        spool_commit
        die "$1 is not an absolute Manta path"
        ;;
    esac
}

check_count() {
    case "$2" in
    '' | *[!0-9]*) die "$1: not a non-negative integer: $2" ;;
    esac
}
