#!/usr/bin/env bash
# Fetch one file from an npm package at a pinned version, checksum-checked.
# Usage: scripts/fetch-npm.sh PACKAGE@VERSION PATH_IN_PACKAGE DEST SHA256
set -eu
spec=$1 inner=$2 dest=$3 sum=$4
if [ -f "$dest" ] && echo "$sum  $dest" | sha256sum -c --quiet - 2>/dev/null; then exit 0; fi
if ! command -v npm >/dev/null 2>&1; then
  echo "!! npm is not installed: cannot fetch $spec. Install Node.js/npm (apt-get install npm)." >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "$spec" --silent >/dev/null)
tar xzf "$tmp"/*.tgz -C "$tmp"
echo "$sum  $tmp/package/$inner" | sha256sum -c --quiet - || { echo "!! checksum mismatch for $spec $inner" >&2; exit 1; }
mkdir -p "$(dirname "$dest")"
cp "$tmp/package/$inner" "$dest"
echo ">> fetched $spec/$inner -> $dest"
