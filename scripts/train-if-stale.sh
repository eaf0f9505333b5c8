#!/usr/bin/env bash
# Train models/current.tar.gz only when the training inputs changed since the last training.
set -euo pipefail
cd "$(dirname "$0")/.."
model=models/current.tar.gz
stamp=models/current.fingerprint
fingerprint=$(scripts/training-fingerprint.sh)
if [ -f "$model" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$fingerprint" ]; then
  echo "Model is up to date ($model)."
  exit 0
fi
echo "Training inputs changed: training $model ..."
start=$(date +%s)
.venv/bin/rasa train --fixed-model-name current --out models --quiet
echo "$fingerprint" > "$stamp"
echo "Trained in $(( $(date +%s) - start )) s."
