#!/usr/bin/env bash
# DROVER_SANDBOX=container without Kubernetes: test_containment.sh's hostile coding command and
# routes, with drover-agent as one uid and `drover-agent exec-serve` as another (the agent
# pod's two containers), must find no credential.
CONTAIN_MODE=container DROVER_PORT_RANGE=18600-18619 exec bash "$(dirname "$0")/test_containment.sh"
