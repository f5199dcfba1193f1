#!/bin/sh
# compose.yaml's trustees. First start: enrol over TLS with the invite the coordinator wrote
# for this trustee. Every start: poll for aggregates to verify and open (`trustee run`).
set -eu
home="${FEDCARBON_TRUSTEE_HOME:?}"
name="${FEDCARBON_TRUSTEE_NAME:?}"
invite="${FEDCARBON_INVITES:-/var/lib/fedcarbon/invites}/$name.json"

if [ ! -f "$home/.enrolled" ]; then
    while [ ! -f "$invite" ]; do
        echo "$name: waiting for $invite from the coordinator" >&2
        sleep 2
    done
    fedcarbon trustee init --home "$home" \
        --organisation "${FEDCARBON_TRUSTEE_ORGANISATION:-$name}" --invite "$invite"
    : > "$home/.enrolled"
fi
exec fedcarbon trustee run --home "$home"
