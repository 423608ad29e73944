#!/usr/bin/env bash
# Sets the secrets a stack's program requires (config.ts SECRET_KEYS: threescale:serviceToken on every
# slot, cache:authToken on the primary) for a CI preview: the repository secret when there is one,
# otherwise a placeholder the program's config accepts. Keys the stack already holds are kept. A
# preview creates nothing, so a placeholder costs nothing; `pulumi up` never runs here.
#   STACK=<org>/<slot> THREESCALE_SERVICE_TOKEN=... CACHE_AUTH_TOKEN=... bash stack-secrets.sh
set -euo pipefail
: "${STACK:?STACK=<org>/<slot> is required}"
slot="${STACK##*/}"
pulumi stack select --create "$STACK" >/dev/null

primary=$(sed -n '/ring:primary:/,/value:/s/^ *value: *//p' Pulumi.yaml | head -n1)
set_secret() {
    local key="$1" value="$2" placeholder="$3"
    if pulumi config get "$key" --stack "$STACK" >/dev/null 2>&1; then return; fi
    if [ -n "$value" ]; then
        printf '%s' "$value" | pulumi config set --secret "$key" --stack "$STACK"
    else
        echo "note: $key is not a repository secret; previewing $STACK with a placeholder" >&2
        printf '%s' "$placeholder" | pulumi config set --secret "$key" --stack "$STACK"
    fi
}
set_secret threescale:serviceToken "${THREESCALE_SERVICE_TOKEN:-}" "ci-placeholder-threescale-service-token"
if [ "$slot" = "${primary:-red}" ]; then
    set_secret cache:authToken "${CACHE_AUTH_TOKEN:-}" "ci-placeholder-cache-auth-token-0123456789"
fi
