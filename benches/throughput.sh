#!/usr/bin/env bash
# Throughput of one user read (GET /api/user/<id>, the error_code dialect), of a
# token-authenticated call, of SealTalk's cookie-authenticated reads (code_result), and of
# /healthz (a bare handler), side by side against one release gateway on an embedded SQLite
# file; each row also as a ratio of the bare handler's rate in the same run. Needs wrk
# (apt-get install wrk) and curl.
#
#   benches/throughput.sh [seconds per run, default 10] [connections, default 32]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-10}
CONNECTIONS=${2:-32}
THREADS=2

command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install wrk" >&2; exit 2; }
cargo build --release --quiet

work=$(mktemp -d)
dialect_port=18085
sealtalk_port=18084
ops_port=18080
cleanup() { [ -n "${pid:-}" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

(cd "$work" && RUST_LOG=warn \
    ROSETTA__DIALECTS__ERROR_CODE__LISTEN=127.0.0.1:$dialect_port \
    ROSETTA__DIALECTS__CODE_RESULT__LISTEN=127.0.0.1:$sealtalk_port \
    ROSETTA__DIALECTS__STRUTS__LISTEN=127.0.0.1:0 \
    ROSETTA__DIALECTS__CODE_SEC__LISTEN=127.0.0.1:0 \
    ROSETTA__DIALECTS__REST__LISTEN=127.0.0.1:0 \
    ROSETTA__OPS__LISTEN=127.0.0.1:$ops_port \
    ROSETTA__OPS__ADMIN_TOKEN=bench-admin-token-16 \
    exec "$OLDPWD/target/release/rosetta" serve) &
pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$ops_port/healthz" >/dev/null && break; sleep 0.1; done

base="http://127.0.0.1:$dialect_port"
curl -sf -X POST "$base/api/user/register" -d '{"username":"13912345678","password":"123456","name":"bench"}' >/dev/null
login=$(curl -sf -X POST "$base/api/user/login" -d '{"username":"13912345678","password":"123456"}')
token=$(printf '%s' "$login" | sed -E 's/.*"token_id":"([^"]+)".*/\1/')
id=$(printf '%s' "$login" | sed -E 's/.*"userid":"([^"]+)".*/\1/')

# A SealTalk account, through the public flow (the code read from the admin outbox).
sealtalk="http://127.0.0.1:$sealtalk_port"
json='Content-Type: application/json'
curl -sf -X POST "$sealtalk/user/send_code" -H "$json" -d '{"region":"86","phone":"13800000000"}' >/dev/null
code=$(curl -sf -H 'Authorization: Bearer bench-admin-token-16' "http://127.0.0.1:$ops_port/admin/sms/outbox?phone=13800000000" \
    | sed -E 's/.*"code":"([0-9]+)".*/\1/')
verified=$(curl -sf -X POST "$sealtalk/user/verify_code" -H "$json" -d "{\"region\":\"86\",\"phone\":\"13800000000\",\"code\":\"$code\"}")
ticket=$(printf '%s' "$verified" | sed -E 's/.*"verification_token":"([^"]+)".*/\1/')
registered=$(curl -sf -D "$work/headers" -X POST "$sealtalk/user/register" -H "$json" \
    -d "{\"nickname\":\"bench\",\"password\":\"123456\",\"verification_token\":\"$ticket\"}")
wire_id=$(printf '%s' "$registered" | sed -E 's/.*"id":"([^"]+)".*/\1/')
cookie=$(grep -i '^set-cookie:' "$work/headers" | sed -E 's/^[^:]+: *([^;]+);.*/\1/')

run() {
    local label=$1; shift
    local out
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency "$@")
    local rps p50 p99
    rps=$(printf '%s\n' "$out" | awk '/Requests\/sec/ {print $2}')
    p50=$(printf '%s\n' "$out" | awk '$1=="50%" {print $2}')
    p99=$(printf '%s\n' "$out" | awk '$1=="99%" {print $2}')
    bare=${bare:-$rps}
    printf '%-44s %12s req/s  %5s×   p50 %8s   p99 %8s\n' "$label" "$rps" \
        "$(awk -v a="$rps" -v b="$bare" 'BEGIN {printf "%.2f", a / b}')" "$p50" "$p99"
    if printf '%s\n' "$out" | grep -q 'Non-2xx'; then printf '%s\n' "$out" | grep 'Non-2xx'; fi
}

script="$work/edit.lua"
cat > "$script" <<LUA
wrk.method = "POST"
wrk.body = "{}"
wrk.headers["X-Auth-Token"] = "$token"
LUA

echo "rosetta $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores, ${CONNECTIONS} connections, ${SECONDS_PER_RUN}s per run"
run "GET /healthz (ops, bare handler)" "http://127.0.0.1:$ops_port/healthz"
run "GET /api/user/$id (one user read)" "$base/api/user/$id"
run "POST /api/user/$id/edit {} (token auth)" -s "$script" "$base/api/user/$id/edit"
run "GET /user/$wire_id (SealTalk, cookie auth)" -H "Cookie: $cookie" "$sealtalk/user/$wire_id"
run "GET /user/sync/0 (SealTalk, cookie auth)" -H "Cookie: $cookie" "$sealtalk/user/sync/0"
