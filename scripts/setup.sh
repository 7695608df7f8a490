#!/usr/bin/env bash
# Installs what building and testing mantad needs on a fresh Debian machine.
# Idempotent: each step is skipped when its tool is already there.
set -euo pipefail

need_apt=()
command -v clang >/dev/null 2>&1 || need_apt+=(clang)
# The rocksdb crate generates its bindings with libclang.
ls /usr/lib/llvm-*/lib/libclang*.so* >/dev/null 2>&1 || need_apt+=(libclang-dev)
command -v cc >/dev/null 2>&1 || need_apt+=(build-essential)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
# Job tasks run in containers: gVisor (runsc, the default) and runc; the
# default image is made from busybox-static; skopeo converts image formats.
for p in runc runsc skopeo; do command -v $p >/dev/null 2>&1 || need_apt+=($p); done
dpkg -s busybox-static >/dev/null 2>&1 || need_apt+=(busybox-static)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: apt-get install ${need_apt[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found; install Rust (https://rustup.rs) first" >&2
  exit 1
fi
