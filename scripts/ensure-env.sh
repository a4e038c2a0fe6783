#!/usr/bin/env bash
# Sets up everything the tests and the studio need on a fresh Debian machine, idempotently:
# Debian's chromium (headless browser + the SwiftShader Vulkan ICD), the Vulkan loader, Mesa 25's
# lavapipe (a CPU Vulkan driver with shader-f16) in .cache/mesa25, and the npm packages.
# Source it: it exports MESA25_ICD and MESA25_LIB.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
[ -f /usr/lib/chromium/vk_swiftshader_icd.json ] || need_apt+=(chromium)
ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1 ' || need_apt+=(libvulkan1)
ls /usr/lib/x86_64-linux-gnu/libLLVM-15.so* >/dev/null 2>&1 || need_apt+=(libllvm15)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "[env] installing Debian packages: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

MESA_DIR="$ROOT/.cache/mesa25"
if [ ! -f "$MESA_DIR/lvp_icd.json" ] || [ ! -f "$MESA_DIR/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so" ]; then
  echo "[env] fetching Mesa 25 lavapipe into $MESA_DIR"
  bash "$ROOT/scripts/get-mesa25-lavapipe.sh" "$MESA_DIR" >/dev/null
fi
export MESA25_ICD="$MESA_DIR/lvp_icd.json"
export MESA25_LIB="$MESA_DIR/usr/lib/x86_64-linux-gnu"

if [ ! -d "$ROOT/node_modules" ] || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
  echo "[env] npm ci"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
fi
