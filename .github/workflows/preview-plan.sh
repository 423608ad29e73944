#!/usr/bin/env bash
# Plans a slot's real preview (.github/workflows/policy.yml) on the repository's Pulumi organization:
# every slot's program reads the live pointer's stack, and a StackReference to a stack that does not
# exist fails the preview, so it is created when missing (empty: nothing is live until the first flip,
# as `ring deploy` creates it); a secondary slot reads the VPC and Redis from the primary and refuses
# to preview until the primary is deployed (guards.ts checkPrimaryDeployed), so on a fork that never
# deployed it, only the primary is previewed and the secondary is skipped with a notice. Writes
# run=true|false to $GITHUB_OUTPUT (stdout without it).
#   STACK=<org>/<slot> bash preview-plan.sh
set -euo pipefail
: "${STACK:?STACK=<org>/<slot> is required}"
org="${STACK%/*}"
slot="${STACK##*/}"
out="${GITHUB_OUTPUT:-/dev/stdout}"
primary=$(sed -n '/ring:primary:/,/value:/s/^ *value: *//p' Pulumi.yaml | head -n1)
primary="${primary:-red}"

(cd live && pulumi stack select --create "$org/live" >/dev/null)

if [ "$slot" != "$primary" ] && [ -z "$(pulumi stack output vpcId --stack "$org/$primary" 2>/dev/null || true)" ]; then
    echo "::notice::$STACK is not previewed: it reads the VPC and Redis from the primary $org/$primary, which has never been deployed; \`pulumi up -s $org/$primary\` first, and the next run previews both"
    echo "run=false" >> "$out"
    exit 0
fi
echo "run=true" >> "$out"
