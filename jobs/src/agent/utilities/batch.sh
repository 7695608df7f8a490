# The driver of a batch of map tasks (docs/jobs-agent.md, "Batches"): runs
# init once, then every task one after the other. The agent wrote each
# task's parameters into $MANTA_BATCH/<i>/ (object, file, base), one value
# per file; they are only ever read into variables, never into code. Each
# task's stdout, stderr and exit status go back there (stdout, stderr,
# status; `started` marks the one that began), its utilities' records into
# <i>/spool. A failing task does not stop the others.

batch=$MANTA_BATCH
count=$MANTA_BATCH_COUNT
user_exec=$MANTA_EXEC
user_init=$MANTA_INIT
has_init=${MANTA_INIT+yes}
unset MANTA_BATCH MANTA_BATCH_COUNT MANTA_EXEC MANTA_INIT

# value FILE: sets $v to the file's exact bytes (trailing newlines kept).
value() {
    v=$(cat "$1" && printf x) || exit 125
    v=${v%x}
}

if [ "$has_init" = yes ]; then
    /bin/sh -c "$user_init" </dev/null >/dev/null || {
        echo $? >"$batch/init.status"
        exit 1
    }
fi

i=0
while [ "$i" -lt "$count" ]; do
    d=$batch/$i
    value "$d/object"
    object=$v
    value "$d/file"
    file=$v
    value "$d/base"
    base=$v
    : >"$d/started" || exit 125
    (
        export MANTA_INPUT_OBJECT="$object" mc_input_key="$object"
        export MANTA_INPUT_FILE="$file" mc_input_file="$file"
        export MANTA_OUTPUT_BASE="$base" MANTA_SPOOL="$d/spool"
        exec /bin/sh -c "$user_exec"
    ) <"$file" >"$d/stdout" 2>"$d/stderr"
    echo $? >"$d/status" || exit 125
    i=$((i + 1))
done
