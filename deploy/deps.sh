#!/usr/bin/env bash
# deps.sh installs (as root, from Debian's packages) or checks the system
# programs Signoff's tests and server need. Usage: deploy/deps.sh [test|run]
set -euo pipefail

mode=${1:-test}
# command -> Debian package
declare -A need=()
if [[ $mode == test ]]; then
	need[redis-server]=redis-server
	need[redis-cli]=redis-tools
fi

missing=()
for cmd in "${!need[@]}"; do
	command -v "$cmd" >/dev/null 2>&1 || missing+=("${need[$cmd]}")
done
if ((${#missing[@]} == 0)); then
	exit 0
fi
if [[ $(id -u) != 0 ]]; then
	echo "deps: missing ${missing[*]}: run 'sudo apt-get install -y ${missing[*]}'" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
