#!/usr/bin/env bash
# `make run`: set up what is missing, then run Dealerflow in the foreground.
# Safe to run again: it reuses the virtualenv, the databases and the demo data.
set -euo pipefail
cd "$(dirname "$0")/../.."
export DEALERFLOW_VAR="${DEALERFLOW_VAR:-$PWD/var}"
mkdir -p "$DEALERFLOW_VAR" var  # var/: supervisord's control socket (supervisord.conf)
# readable lines in a terminal; production's default is JSON
export LOG_FORMAT="${LOG_FORMAT:-text}"
# REPLICAS=2: a second replica of leads and of followups (supervisord.conf)
case "${REPLICAS:-1}" in
  1) export SECOND_REPLICAS=false ;;
  2) export SECOND_REPLICAS=true ;;
  *) echo "REPLICAS must be 1 or 2 (a second replica of leads and of followups), not '${REPLICAS}'." >&2; exit 2 ;;
esac
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

# 1. The virtualenv with the pinned packages.
make --no-print-directory venv

# 2. RabbitMQ: the one given by AMQP_URI, or one on this machine.
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
if [ -n "${AMQP_URI:-}" ]; then
  say "Using the broker at AMQP_URI"
elif port_open 127.0.0.1 5672; then
  say "RabbitMQ answers on 127.0.0.1:5672"
else
  if ! command -v rabbitmq-server >/dev/null; then
    say "RabbitMQ is not installed: installing Debian's rabbitmq-server"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y rabbitmq-server || {
      echo "Could not install rabbitmq-server. Install it (apt-get install rabbitmq-server)" \
           "or point AMQP_URI at a running RabbitMQ, then run 'make run' again." >&2; exit 1; }
  fi
  say "Starting RabbitMQ (rabbitmq-server -detached)"
  as_root rabbitmq-server -detached || {
    echo "Could not start RabbitMQ; start it (rabbitmq-server -detached) or set AMQP_URI." >&2; exit 1; }
  for _ in $(seq 60); do port_open 127.0.0.1 5672 && break; sleep 1; done
  port_open 127.0.0.1 5672 || { echo "RabbitMQ did not come up within 60 s." >&2; exit 1; }
  say "RabbitMQ is up"
fi

# 3. Databases at head, queues declared, the demo group seeded.
say "Migrating the databases and declaring the queues"
.venv/bin/dealerflow migrate
say "Seeding the demo dealer group"
KEY=$(.venv/bin/dealerflow seed-demo | tail -n 1)

BIND="${BIND:-127.0.0.1:${PORT:-8000}}"
export BIND
cat <<MSG

  Dealerflow is starting at http://$BIND
  Demo logins (password: ${DEALERFLOW_DEMO_PASSWORD:-dealerflow-demo}):
    admin (group admin), manager.sh, consultant.sh1..3 (SH-PUDONG),
    manager.bj, consultant.bj1..3 (BJ-CHAOYANG)
  Demo API key (both stores): $KEY
  Try: curl -X POST "http://$BIND/v1/leads" -H "X-Api-Key: $KEY" \\
         -H "Content-Type: application/json" \\
         -d '{"source":"demo","store_code":"SH-PUDONG","customer":{"name":"王磊","phone":"13800138000"}}'
  Replicas of leads and followups: ${REPLICAS:-1} (make run REPLICAS=2 for two)
  Ctrl-C stops everything.

MSG
exec .venv/bin/supervisord -c deploy/local/supervisord.conf
