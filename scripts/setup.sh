#!/usr/bin/env bash
# Installs what building and testing mantad needs on a fresh Debian machine.
# Idempotent: each step is skipped when its tool is already there.
set -euo pipefail

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
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
# The web console's tests drive a real browser: chromium, headless,
# through chromedriver (WebDriver).
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: apt-get install ${need_apt[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found; install Rust (https://rustup.rs) first" >&2
  exit 1
fi

# node-manta (npm package `manta`), the reference client the tests compare
# against, installed once under /var/cache (or ~/.cache).
MANTA_NODE_PREFIX=${MANTA_NODE_PREFIX:-/var/cache/mantad-node}
mkdir -p "$MANTA_NODE_PREFIX" 2>/dev/null || MANTA_NODE_PREFIX="$HOME/.cache/mantad-node"
if [ ! -x "$MANTA_NODE_PREFIX/node_modules/manta/bin/mls" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "setup: apt-get install nodejs npm" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
  fi
  echo "setup: npm install manta@5 into $MANTA_NODE_PREFIX" >&2
  npm install --silent --no-audit --no-fund --prefix "$MANTA_NODE_PREFIX" manta@5 >/dev/null
fi

# S3 clients the S3 tests drive: boto3 and aws-cli from PyPI (with awscrt,
# which boto3 needs for CRC32C and CRC64NVME checksums), s3cmd and rclone
# from apt.
if ! python3 -c 'import boto3, awscli, awscrt' >/dev/null 2>&1; then
  echo "setup: pip install boto3 awscli awscrt" >&2
  python3 -m pip install --quiet --disable-pip-version-check boto3 awscli awscrt >/dev/null
fi
# Checkers of deploy/ that the deploy tests run: kubernetes-validate (the
# manifests against Kubernetes' schemas) and dockerfile (BuildKit's parser,
# for deploy/lint-containerfile.py).
if ! command -v kubernetes-validate >/dev/null 2>&1 || ! python3 -c 'import dockerfile' >/dev/null 2>&1; then
  echo "setup: pip install kubernetes-validate dockerfile" >&2
  python3 -m pip install --quiet --disable-pip-version-check kubernetes-validate dockerfile >/dev/null
fi
need_s3=()
for p in s3cmd rclone; do command -v $p >/dev/null 2>&1 || need_s3+=($p); done
if [ ${#need_s3[@]} -gt 0 ]; then
  echo "setup: apt-get install ${need_s3[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_s3[@]}" >/dev/null
fi
