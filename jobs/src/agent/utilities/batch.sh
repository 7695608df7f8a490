# The driver of a batch of map tasks (docs/jobs-agent.md, "Batches"): runs
# init once, then every task one after the other. The agent wrote each
# task's parameters into $MANTA_BATCH/<i>/params as single-quoted
# assignments (object, file, base), sourced without a process. Each
# task's stdout, stderr and exit status go back there (stdout, stderr,
# status; `started` marks the one that began), its utilities' records into
# <i>/spool. A failing task does not stop the others.

batch=$MANTA_BATCH
count=$MANTA_BATCH_COUNT
user_exec=$MANTA_EXEC
user_init=$MANTA_INIT
has_init=${MANTA_INIT+yes}
unset MANTA_BATCH MANTA_BATCH_COUNT MANTA_EXEC MANTA_INIT

if [ "$has_init" = yes ]; then
    /bin/sh -c "$user_init" </dev/null >/dev/null || {
        echo $? >"$batch/init.status"
        exit 1
    }
fi

i=0
while [ "$i" -lt "$count" ]; do
    d=$batch/$i
    . "$d/params" || exit 125
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
