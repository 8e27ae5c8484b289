#!/usr/bin/env bash
# Compares the serving path of ferry's runtime with gunicorn on the same Flask hello-world:
#   (a) gunicorn gthread, 2 workers x 4 threads, serving HTTP directly;
#   (b) ferry: a Go HTTP server (./main.go) handing requests to the runtime's Python workers
#       (default 2 workers x 4 threads).
# Each round runs wrk -t2 -c32 against both, one after the other; ROUNDS alternates them to even out
# noise from anything else running on the machine.
#
# Needs wrk, gunicorn and Flask for /usr/bin/python3:
#   apt-get install -y wrk gunicorn python3-flask
# Usage: internal/engine/workers/bench/compare.sh     (DURATION=10s ROUNDS=1 PYTHON=/usr/bin/python3)
set -euo pipefail

DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-1}
PYTHON=${PYTHON:-/usr/bin/python3}
GUNICORN_PORT=${GUNICORN_PORT:-18801}
FERRY_PORT=${FERRY_PORT:-18802}

for tool in wrk gunicorn curl go; do
	command -v "$tool" >/dev/null || { echo "compare.sh: $tool is not installed" >&2; exit 1; }
done
"$PYTHON" -c 'import flask' 2>/dev/null || { echo "compare.sh: $PYTHON cannot import flask" >&2; exit 1; }

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/ferry-compare-XXXXXX)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

mkdir "$work/app"
cat >"$work/app/app.py" <<'EOF'
from flask import Flask

app = Flask(__name__)

@app.route("/")
def hello():
    return "Hello, World!"
EOF

(cd "$here" && go build -o "$work/ferry-bench" .)

wait_for() { # url
	for _ in $(seq 100); do
		curl -fs "$1" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "compare.sh: $1 did not answer" >&2
	exit 1
}

(cd "$work/app" && exec gunicorn -k gthread -w 2 --threads 4 -b "127.0.0.1:$GUNICORN_PORT" \
	--error-logfile "$work/gunicorn.log" app:app) &
pids+=($!)
"$work/ferry-bench" -addr "127.0.0.1:$FERRY_PORT" -dir "$work/app" -python "$PYTHON" \
	-run-dir "$work" 2>"$work/ferry.log" &
pids+=($!)
wait_for "http://127.0.0.1:$GUNICORN_PORT/"
wait_for "http://127.0.0.1:$FERRY_PORT/"

run() { # name url
	wrk -t2 -c32 -d2s "$2" >/dev/null # warm up
	local out
	out=$(wrk -t2 -c32 -d"$DURATION" --latency "$2")
	awk -v name="$1" '
		/Requests\/sec/ { rps = $2 }
		$1 == "50%" { p50 = $2 }
		$1 == "99%" { p99 = $2 }
		/Non-2xx/ { errors = errors " non-2xx=" $NF }
		/Socket errors/ { errors = errors " " $0 }
		END { printf "%-34s %10s req/s   p50 %-9s p99 %-9s%s\n", name, rps, p50, p99, errors }' <<<"$out"
}

echo "wrk -t2 -c32 -d$DURATION, Flask hello-world, $(nproc) CPUs"
for round in $(seq "$ROUNDS"); do
	run "gunicorn gthread 2x4 (direct)" "http://127.0.0.1:$GUNICORN_PORT/"
	run "ferry runtime 2x4 (Go edge)" "http://127.0.0.1:$FERRY_PORT/"
done
