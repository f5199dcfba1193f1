#!/bin/sh
# compose.yaml's coordinator. First start: make the home in its volume (configuration,
# transparency-log key, TLS CA and a server certificate for the name participants dial)
# and one invite per trustee in the shared invites volume. Every start: serve over TLS.
set -eu
home="${FEDCARBON_COORDINATOR_HOME:?}"
invites="${FEDCARBON_INVITES:-/var/lib/fedcarbon/invites}"
address="${FEDCARBON_PUBLIC_ADDRESS:-coordinator:50051}"

if [ ! -f "$home/coordinator.toml" ]; then
    set -- --tls-hostname "${address%:*}"
    for name in ${FEDCARBON_TLS_HOSTNAMES:-}; do
        set -- "$@" --tls-hostname "$name"
    done
    # The URL carries no password: libpq reads PGPASSWORD from the environment.
    fedcarbon coordinator init --home "$home" --listen 0.0.0.0:50051 \
        --database-url "${FEDCARBON_COORDINATOR_DATABASE_URL:?}" \
        --log-id "${FEDCARBON_LOG_ID:-fedcarbon-log}" "$@"
fi
for name in ${FEDCARBON_TRUSTEES:-}; do
    # Once per trustee, even after the trustee has enrolled and its invite was deleted.
    if [ ! -f "$invites/$name.issued" ]; then
        fedcarbon coordinator token issue --home "$home" --role trustee --count 1 \
            --label "$name" --invite "$invites/$name.json" --coordinator-address "$address"
        : > "$invites/$name.issued"
    fi
done
exec fedcarbon coordinator serve --home "$home"
