#!/usr/bin/env python3
"""Checks a Containerfile without building it (no registry is needed).

Parses it with the `dockerfile` package (PyPI), which wraps BuildKit's own
parser, then checks what the parser lets through and a build would only
find late: unknown instructions, a stage used before it is defined, an
ARG used in FROM but never declared, shell-form ENTRYPOINT (which would
keep SIGTERM from mantad). Prints one line per problem; exits 1 if any.

    python3 deploy/lint-containerfile.py deploy/Containerfile
"""
import re
import sys

import dockerfile

KNOWN = {
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM",
    "HEALTHCHECK", "LABEL", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER",
    "VOLUME", "WORKDIR",
}


def lint(path):
    try:
        cmds = dockerfile.parse_file(path)
    except dockerfile.GoParseError as e:
        return [f"{path}: {e}"]
    problems = []
    global_args, stages, seen_from = set(), [], False
    for c in cmds:
        where = f"{path}:{c.start_line}"
        if c.cmd not in KNOWN:
            problems.append(f"{where}: unknown instruction {c.cmd}")
            continue
        if c.cmd == "ARG" and not seen_from:
            global_args.add(c.value[0].split("=", 1)[0])
        elif not seen_from and c.cmd != "FROM":
            problems.append(f"{where}: {c.cmd} before the first FROM")
        if c.cmd == "FROM":
            seen_from = True
            image = c.value[0]
            for arg in re.findall(r"\$\{?(\w+)", image):
                if arg not in global_args:
                    problems.append(f"{where}: FROM uses undeclared ARG {arg}")
            if len(c.value) == 3 and c.value[1].upper() == "AS":
                stages.append(c.value[2])
            elif len(c.value) != 1:
                problems.append(f"{where}: FROM wants IMAGE [AS NAME]")
        for flag in c.flags:
            if flag.startswith("--from="):
                source = flag[len("--from="):]
                if source not in stages and ":" not in source and "/" not in source:
                    problems.append(f"{where}: --from={source} names no earlier stage")
        if c.cmd == "ENTRYPOINT" and not c.json:
            problems.append(f"{where}: ENTRYPOINT in shell form keeps signals from the process")
    if not seen_from:
        problems.append(f"{path}: no FROM")
    return problems


def main():
    problems = [p for path in sys.argv[1:] for p in lint(path)]
    for p in problems:
        print(p)
    return 1 if problems or len(sys.argv) < 2 else 0


if __name__ == "__main__":
    sys.exit(main())
