#!/usr/bin/env bash
# Runs Plaza as it would run in production, on loopback: one demo-provider
# process per provider of plaza.example.yaml (127.0.0.1:9101-9108), then the
# gateway in front of them on :8080. Ctrl-C stops everything.
#   scripts/run-http.sh [--latency 20ms] [--fail-rate 0]
set -euo pipefail
cd "$(dirname "$0")/.."
extra=("$@")
bin=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$bin"' EXIT
go build -o "$bin/plaza" . && go build -o "$bin/demo-provider" ./cmd/demo-provider

port=9101
for spec in freshcart:grocery greenbasket:grocery mediquick:medical carepoint:medical \
            lexassist:legal justicehub:legal govdesk:public-service citizenhub:public-service; do
  id=${spec%%:*}; vertical=${spec#*:}
  secret="dev-secret-$id"
  export "PLAZA_SECRET_$(echo "$id" | tr a-z- A-Z_)=$secret"
  "$bin/demo-provider" --vertical "$vertical" --provider "$id" --secret "$secret" \
    --addr "127.0.0.1:$port" "${extra[@]}" &
  port=$((port + 1))
done
sleep 0.5
exec_args=(--config plaza.example.yaml)
"$bin/plaza" "${exec_args[@]}" &
wait -n
