#!/usr/bin/env bash
# Compares the serving path of ferry's runtime with the servers its users would otherwise run, on the same
# hello-world apps and machine, and prints each pair's ratio:
#   Flask:   gunicorn gthread, 2 workers x 4 threads, serving HTTP directly,
#            against ferry: a Go HTTP server (./main.go) handing requests to the runtime's Python workers
#            (default 2 workers x 4 threads);
#   FastAPI: uvicorn, 2 workers, uvloop and httptools, against ferry's ASGI workers (2).
# Each round runs wrk -t2 -cCONNECTIONS against both of a pair, one after the other; ROUNDS alternates them
# to even out noise from anything else running on the machine. The ratio is ferry's req/s over the other's.
#
# Needs wrk, gunicorn, Flask, FastAPI, uvicorn, uvloop and httptools for /usr/bin/python3:
#   apt-get install -y wrk gunicorn python3-flask python3-fastapi python3-uvicorn python3-uvloop python3-httptools
# Usage: internal/engine/workers/bench/compare.sh [flask] [fastapi]
#        (DURATION=10s ROUNDS=1 CONNECTIONS=32 PYTHON=/usr/bin/python3)
set -euo pipefail

DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-1}
CONNECTIONS=${CONNECTIONS:-32}
PYTHON=${PYTHON:-/usr/bin/python3}
PORT_BASE=${PORT_BASE:-18801}
pairs=("$@")
[ ${#pairs[@]} -gt 0 ] || pairs=(flask fastapi)

for tool in wrk curl go; do
	command -v "$tool" >/dev/null || { echo "compare.sh: $tool is not installed" >&2; exit 1; }
done
for pair in "${pairs[@]}"; do
	case $pair in
	flask) modules="flask gunicorn" ;;
	fastapi) modules="fastapi uvicorn uvloop httptools" ;;
	*) echo "compare.sh: unknown pair $pair (flask or fastapi)" >&2; exit 1 ;;
	esac
	for module in $modules; do
		"$PYTHON" -c "import $module" 2>/dev/null || { echo "compare.sh: $PYTHON cannot import $module" >&2; exit 1; }
	done
done

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/ferry-compare-XXXXXX)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

mkdir "$work/flask" "$work/fastapi"
cat >"$work/flask/app.py" <<'EOF'
from flask import Flask

app = Flask(__name__)

@app.route("/")
def hello():
    return "Hello, World!"
EOF
cat >"$work/fastapi/app.py" <<'EOF'
from fastapi import FastAPI

app = FastAPI()

@app.get("/")
async def hello():
    return {"message": "Hello, World!"}
EOF

(cd "$here" && go build -o "$work/ferry-bench" .)

wait_for() { # url
	for _ in $(seq 300); do
		curl -fs "$1" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "compare.sh: $1 did not answer" >&2
	exit 1
}

ferry() { # app-dir kind port
	mkdir -p "$work/run-$2"
	"$work/ferry-bench" -addr "127.0.0.1:$3" -dir "$1" -kind "$2" -python "$PYTHON" \
		-run-dir "$work/run-$2" 2>"$work/ferry-$2.log" &
	pids+=($!)
}

declare -A url name
port=$PORT_BASE
for pair in "${pairs[@]}"; do
	direct=$port ferried=$((port + 1))
	port=$((port + 2))
	case $pair in
	flask)
		(cd "$work/flask" && exec "$PYTHON" -m gunicorn -k gthread -w 2 --threads 4 -b "127.0.0.1:$direct" \
			--error-logfile "$work/gunicorn.log" app:app) &
		pids+=($!)
		ferry "$work/flask" wsgi "$ferried"
		name[$pair-direct]="gunicorn gthread 2x4 (direct)"
		name[$pair-ferry]="ferry wsgi 2x4 (Go edge)"
		;;
	fastapi)
		(cd "$work/fastapi" && exec "$PYTHON" -m uvicorn --workers 2 --loop uvloop --http httptools \
			--host 127.0.0.1 --port "$direct" --log-level warning --no-access-log app:app) &
		pids+=($!)
		ferry "$work/fastapi" asgi "$ferried"
		name[$pair-direct]="uvicorn 2 workers uvloop httptools"
		name[$pair-ferry]="ferry asgi 2 workers (Go edge)"
		;;
	esac
	url[$pair-direct]="http://127.0.0.1:$direct/"
	url[$pair-ferry]="http://127.0.0.1:$ferried/"
	wait_for "${url[$pair-direct]}"
	wait_for "${url[$pair-ferry]}"
done

run() { # name url; prints the line and leaves req/s in $rps
	wrk -t2 -c"$CONNECTIONS" -d2s "$2" >/dev/null # warm up
	local out
	out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "$2")
	rps=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
	awk -v name="$1" '
		/Requests\/sec/ { rps = $2 }
		$1 == "50%" { p50 = $2 }
		$1 == "99%" { p99 = $2 }
		/Non-2xx/ { errors = errors " non-2xx=" $NF }
		/Socket errors/ { errors = errors " " $0 }
		END { printf "  %-36s %10s req/s   p50 %-9s p99 %-9s%s\n", name, rps, p50, p99, errors }' <<<"$out"
}

echo "wrk -t2 -c$CONNECTIONS -d$DURATION, hello-world apps, $(nproc) CPUs"
for round in $(seq "$ROUNDS"); do
	for pair in "${pairs[@]}"; do
		echo "$pair, round $round:"
		run "${name[$pair-direct]}" "${url[$pair-direct]}"
		direct_rps=$rps
		run "${name[$pair-ferry]}" "${url[$pair-ferry]}"
		awk -v f="$rps" -v d="$direct_rps" 'BEGIN { printf "  ratio ferry/direct: %.2fx\n", f / d }'
	done
done
