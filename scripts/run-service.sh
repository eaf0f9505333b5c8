#!/usr/bin/env bash
# Start the action server (5055) and Rasa (5005) in the foreground; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f credentials.yml ] || cp credentials.example.yml credentials.yml
mkdir -p var
pids=()
stop() { trap - INT TERM EXIT; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap stop INT TERM EXIT
.venv/bin/rasa run actions --port 5055 --actions actions &
pids+=($!)
.venv/bin/rasa run --port 5005 --credentials credentials.yml --endpoints endpoints.yml \
  --model models/current.tar.gz &
pids+=($!)
echo "Rasa on http://127.0.0.1:5005 (WhatsApp webhook /webhooks/whatsapp/webhook, attendant API /webhooks/attendant), actions on :5055. Ctrl-C stops both."
wait -n "${pids[@]}"
