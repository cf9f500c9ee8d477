#!/usr/bin/env bash
# docs/api.md is generated from the OpenAPI document droverd serves: fail when they differ.
set -euo pipefail
python3 "$DROVER_SOURCE_DIR/scripts/gen_api_md.py" --check
