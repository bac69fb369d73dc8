#!/usr/bin/env bash
# verify-step.sh - a deploy pipeline step gated by Faultline (docs/verify.md).
#
#   verify-step.sh NEW_RELEASE PREVIOUS_RELEASE CANARY_HOSTS REST_HOSTS
#   e.g. verify-step.sh 2.4.1 2.4.0 app1 app2,app3,app4
#
# 1. deploy NEW to the canary hosts
# 2. faultline verify --canary: the canary must pass every probe and R's expectations, and be no
#    worse than the hosts still on PREVIOUS (error rate, median latency)
# 3. deploy NEW to the rest
# 4. faultline verify --rollback-to PREVIOUS: every host healthy on NEW, and a rollback to
#    PREVIOUS would still find every grant, table and column it needs
# Exit status: 0 deployed and verified; 1 a check failed (reasons printed); 2 could not verify.
# DEPLOY_CMD is how your system deploys one release to a list of hosts (here a placeholder).
set -euo pipefail

NEW=${1:?new release}
PREV=${2:?previous release}
CANARY=${3:?canary hosts, comma-separated}
REST=${4:?remaining hosts, comma-separated}
DEPLOY_CMD=${DEPLOY_CMD:-./deploy.sh}            # DEPLOY_CMD RELEASE HOSTS
FAULTLINE=${FAULTLINE:-faultline}                 # FAULTLINE_CONTROL selects the collector
WAIT=${VERIFY_TIMEOUT:-10m}                       # how long hosts may take to report NEW

echo "== deploy $NEW to canary $CANARY"
"$DEPLOY_CMD" "$NEW" "$CANARY"

echo "== verify $NEW on the canary against $PREV"
# Exit 1 (failed) or 2 (could not verify) stops the pipeline here: the rest keeps $PREV.
"$FAULTLINE" verify --release "$NEW" --hosts "$CANARY" --canary "$CANARY" --timeout "$WAIT" \
	--json | tee "verify-canary-$NEW.json"

echo "== deploy $NEW to $REST"
"$DEPLOY_CMD" "$NEW" "$REST"

echo "== verify $NEW everywhere, and that a rollback to $PREV would work"
"$FAULTLINE" verify --release "$NEW" --hosts "$CANARY,$REST" --rollback-to "$PREV" \
	--timeout "$WAIT" --json | tee "verify-all-$NEW.json"
