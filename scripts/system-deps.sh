#!/usr/bin/env bash
# Install missing Debian/Ubuntu packages where we can (root or sudo); otherwise
# print exactly what to install and go on. Usage: scripts/system-deps.sh PKG...
set -u
missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "!! Not a Debian/Ubuntu system: please install the equivalents of: ${missing[*]}" >&2
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then sudo=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"
else
  echo "!! Cannot install system packages (not root, no sudo). Please run:" >&2
  echo "   sudo apt-get install -y ${missing[*]}" >&2
  exit 0
fi
echo ">> Installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; then
  $sudo apt-get update -qq >/dev/null 2>&1 || true
  $sudo apt-get install -y -qq "${missing[@]}" >/dev/null || \
    echo "!! apt-get could not install: ${missing[*]} — please install them by hand." >&2
fi
exit 0
