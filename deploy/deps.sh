#!/usr/bin/env bash
# deps.sh installs (as root, from Debian's packages) or checks the system
# packages Signoff needs. Usage: deploy/deps.sh [test|run]
#   run:  what signoffd needs: espeak-ng (speech synthesis), PocketSphinx
#         (speech recognition) and libopus (Opus audio to browsers); the C
#         libraries are linked in through cgo.
#   test: that, plus redis-server, redis-tools (redis-cli, for Redis Cluster)
#         and redis-sentinel for the store and multi-node tests.
set -euo pipefail

mode=${1:-test}
pkgs=(espeak-ng pocketsphinx-en-us libpocketsphinx-dev libsphinxbase-dev libopus-dev libopusfile-dev pkg-config gcc)
if [[ $mode == test ]]; then
	pkgs+=(redis-server redis-tools redis-sentinel chromium fonts-noto-cjk sox)
fi

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
	exit 0
fi
if [[ $(id -u) != 0 ]]; then
	echo "deps: missing Debian packages: ${missing[*]}" >&2
	echo "deps: run 'sudo apt-get install -y ${missing[*]}'" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
