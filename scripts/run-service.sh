#!/usr/bin/env bash
# Start the action server (5055), the web process (5005) and the dialogue workers in the foreground;
# Ctrl-C stops them all. The web process (supportdesk.processes.web: webhook, attendant API, stream,
# console, health) loads no model; DIALOGUE_WORKERS processes (default: one per core) load it and
# answer the stored messages. DIALOGUE_WORKERS=0 runs everything in one `rasa run` process instead.
# Both listen on 127.0.0.1 only: put a proxy or tunnel in front to reach them from elsewhere.
# On embedded settings (no WhatsApp token) the WhatsApp simulator is on, missing secrets
# (including ACTION_SERVER_TOKEN, which Rasa sends the action server) are generated once into
# var/dev-secrets.env, and the console URL and an admin token are printed.
#
#   scripts/run-service.sh                     start both servers (`make run`)
#   scripts/run-service.sh --actions           start only the action server (`make actions`)
#   scripts/run-service.sh --shell             the action server, then `rasa shell` (`make shell`)
#   scripts/run-service.sh --exec COMMAND...   run COMMAND with the settings the servers would get
#                                              (`make token`: its tokens are accepted by `make run`'s)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var

# A setting's value from the environment, else from .env (which never overrides the environment).
setting() {
  local name=$1
  if [ -n "${!name:-}" ]; then printf '%s' "${!name}"; return; fi
  [ -f .env ] || return 0
  sed -n -E "s/^[[:space:]]*(export[[:space:]]+)?$name[[:space:]]*=[[:space:]]*//p" .env | tail -n1 |
    sed -E "s/[[:space:]]+$//; s/^([\"'])(.*)\\1$/\\2/"
}

# Secrets a local run needs but nobody set: random ones, kept in var/ (ignored by git) across runs.
dev_secrets=var/dev-secrets.env
for name in WHATSAPP_APP_SECRET ATTENDANT_JWT_SECRET ACTION_SERVER_TOKEN; do
  [ -n "$(setting "$name")" ] && continue
  if ! grep -q "^$name=" "$dev_secrets" 2>/dev/null; then
    (umask 077; echo "$name=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))')" >> "$dev_secrets")
  fi
  export "$name=$(sed -n "s/^$name=//p" "$dev_secrets" | tail -n1)"
done
if [ -z "$(setting WHATSAPP_ACCESS_TOKEN)" ] && [ -z "$(setting SIMULATOR_ENABLED)" ]; then
  export SIMULATOR_ENABLED=true
fi
# rasa-sdk 3.6 has no host option; it binds to $SANIC_HOST (default 0.0.0.0, every interface).
action_server() { SANIC_HOST=127.0.0.1 exec .venv/bin/rasa run actions --port 5055 --actions actions "$@"; }
case "${1:-}" in
  --exec) shift; exec "$@" ;;
  --actions) shift; action_server "$@" ;;
  --shell)
    action_server --quiet &
    actions_pid=$!
    trap 'kill $actions_pid 2>/dev/null || true' EXIT
    .venv/bin/rasa shell --interface 127.0.0.1 --model models/current.tar.gz --endpoints endpoints.yml
    exit ;;
esac
[ -f credentials.yml ] || cp credentials.example.yml credentials.yml

pids=()
banner_pid=
stop() { trap - INT TERM EXIT; kill "${pids[@]}" $banner_pid 2>/dev/null || true; wait 2>/dev/null || true; }
trap stop INT TERM EXIT
action_server &
pids+=($!)
workers=$(.venv/bin/python -c 'from supportdesk.platform.settings import get_settings; print(get_settings().dialogue_workers)')
if [ "$workers" -eq 0 ]; then
  .venv/bin/rasa run --interface 127.0.0.1 --port 5005 --credentials credentials.yml --endpoints endpoints.yml \
    --model models/current.tar.gz &
  pids+=($!)
else
  .venv/bin/python -m supportdesk.processes.web --interface 127.0.0.1 --port 5005 --credentials credentials.yml \
    --endpoints endpoints.yml --model models/current.tar.gz &
  pids+=($!)
  for _ in $(seq "$workers"); do
    .venv/bin/python -m supportdesk.processes.dialogue_worker --model models/current.tar.gz --endpoints endpoints.yml &
    pids+=($!)
  done
fi

banner() {
  local token
  token=$(.venv/bin/python -m supportdesk.attendant.tokens --sub demo --name Demo --role admin 2>/dev/null || true)
  echo "Rasa on http://127.0.0.1:5005 (WhatsApp webhook /webhooks/whatsapp/webhook, attendant API /webhooks/attendant), actions on :5055, $workers dialogue worker(s). Ctrl-C stops all."
  echo "Attendant inbox:    http://127.0.0.1:5005/console/"
  case "$(setting SIMULATOR_ENABLED | tr '[:upper:]' '[:lower:]')" in
    1 | true | yes | on)
      [ -z "$(setting WHATSAPP_ACCESS_TOKEN)" ] && echo "WhatsApp simulator: http://127.0.0.1:5005/console/simulator" ;;
  esac
  grep -q '^channels.console.ConsoleInput:' credentials.yml ||
    echo "note: credentials.yml has no 'channels.console.ConsoleInput:' line (see credentials.example.yml): no console until it does"
  if [ -n "$token" ]; then
    echo "Attendant token (admin 'demo', paste it into the inbox):"
    echo "$token"
  fi
}
# The banner comes once Rasa answers (loading the model takes a while), so it is not lost in the log.
(
  .venv/bin/python -c '
import time, urllib.request
for _ in range(1200):
    try:
        urllib.request.urlopen("http://127.0.0.1:5005/", timeout=1)
        break
    except Exception:
        time.sleep(0.5)
' && banner
) &
banner_pid=$!
wait -n "${pids[@]}"
