#!/usr/bin/env bash
# Start K replicas of the app on this machine behind nginx with sticky sessions (Debian's nginx package).
#   deploy/replicas.sh [K] [PORT]        # K replicas (default 2) behind http://127.0.0.1:PORT (default 8080)
# Replica k listens on 127.0.0.1:$((8600 + k)) (EXPLORER_REPLICA_BASE_PORT overrides 8600). Ctrl-C stops all.
# Listens on the loopback address; put it behind your own TLS proxy (or change `listen`) to serve a class.
set -euo pipefail
cd "$(dirname "$0")/.."
K=${1:-2}
PORT=${2:-8080}
BASE=${EXPLORER_REPLICA_BASE_PORT:-8600}
PYTHON=${PYTHON:-.venv/bin/python}
PREFIX=$(mktemp -d "${TMPDIR:-/tmp}/explorer-nginx.XXXXXX")
mkdir -p "$PREFIX"/{body,proxy,fastcgi,uwsgi,scgi}
chmod 755 "$PREFIX"  # started as root, nginx's workers run as nobody: they must reach the temp folders
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$PREFIX"; }
trap cleanup EXIT INT TERM

upstreams=""
split=""
for ((k = 0; k < K; k++)); do
  port=$((BASE + k))
  EXPLORER_REPLICA="replica_$k" "$PYTHON" -m streamlit run app.py --server.headless true \
    --server.address 127.0.0.1 --server.port "$port" --browser.gatherUsageStats false >"$PREFIX/replica_$k.log" 2>&1 &
  pids+=($!)
  upstreams+="    upstream replica_$k { server 127.0.0.1:$port; }"$'\n'
  share=$((100 / K))
  if ((k < K - 1)); then split+="        ${share}% replica_$k;"$'\n'; else split+="        * replica_$k;"$'\n'; fi
done
PORT=$PORT PREFIX=$PREFIX UPSTREAMS=$upstreams SPLIT=$split "$PYTHON" - <<'PY'
import os
text = open("deploy/nginx.conf.template").read()
for key in ("PORT", "PREFIX", "UPSTREAMS", "SPLIT"):
    text = text.replace(f"@{key}@", os.environ[key])
open(os.path.join(os.environ["PREFIX"], "nginx.conf"), "w").write(text)
PY
for ((k = 0; k < K; k++)); do
  until curl -sf "http://127.0.0.1:$((BASE + k))/_stcore/health" >/dev/null; do sleep 0.5; done
done
nginx -p "$PREFIX" -c "$PREFIX/nginx.conf" -g "daemon off;" &
pids+=($!)
echo "serving $K replicas on http://127.0.0.1:$PORT (logs in $PREFIX)"
wait
