#!/usr/bin/env bash
# The gateway's performance figures as ratios against a bare actix-web handler measured in the
# same run (this machine is shared and noisy: absolute rates drift between runs, ratios much
# less). Builds the release gateway and `examples/bench_peer` (the bare handler `GET /` → `ok`,
# and a bcrypt timer), starts both, and for each backend (SQLite file, then a fresh PostgreSQL
# database) prints every figure next to its goal:
#
#   - error_code `GET /api/user/<id>` / bare handler, 32 connections
#   - reads (8 connections) during a 32-connection login flood / reads alone, and their p99
#   - `POST /api/user/<id>/edit` (a committed write) at 32 connections, 64 writers each on its
#     own account: rate and p99
#   - logins per second / the bcrypt bound (cores ÷ time of one verification at the cost)
#   - idle RSS after start-up
#   - on PostgreSQL: the reads and writes split between two gateway processes / one process
#   - one authenticated read of every dialect / bare handler, one login / the bcrypt bound
#   - cutover (small database): error_code reads in proxy mode / the same reads sent straight
#     to the legacy backend (a second gateway on a copy of the database), and in shadow mode /
#     serve mode, with the shadow comparisons' results
#
# The read, flood and write goals are the embedded SQLite's; on PostgreSQL, whose server
# shares the same cores, those rows are shown beside SQLite's goal.
#
# Each measured row is taken between two runs of the bare handler, and its ratio is against
# their mean, so that drift falls on both alike. Only answers with the right status and body
# count (a wrk Lua check per row). Every request comes from one address, so the per-address
# login limit is off (`security.login_attempts_per_ip_per_minute = 0`) — what is measured is
# the gateway's own capacity. Needs wrk (apt-get install wrk), curl and, for PostgreSQL,
# psql and a server (ROSETTA_BENCH_PG, default postgres://postgres@127.0.0.1:5432/postgres).
#
# With ROSETTA_BENCH_SEED="USERS SESSIONS GROUPS" each backend is measured twice: on a fresh
# database, then on one filled by benches/seed.sh, whose table ends with the large database's
# read, login and write figures over the small one's (goal: within 10%) and the reads measured
# while the janitor purges the seeded expired sessions, right after start-up.
#
#   benches/ratios.sh                         # 5 s per run, both backends
#   ROSETTA_BENCH_SECONDS=10 ROSETTA_BENCH_BACKENDS=sqlite benches/ratios.sh
#   ROSETTA_BENCH_SEED="1000000 2000000 100000" benches/ratios.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${ROSETTA_BENCH_SECONDS:-5}
BACKENDS=${ROSETTA_BENCH_BACKENDS:-sqlite postgres}
PG_URL=${ROSETTA_BENCH_PG:-postgres://postgres@127.0.0.1:5432/postgres}
SEED=${ROSETTA_BENCH_SEED:-}
THREADS=2
WRITERS=64
BCRYPT_COST=10

command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install wrk" >&2; exit 2; }
cargo build --release --quiet --bin rosetta --example bench_peer
peer=$PWD/target/release/examples/bench_peer
gateway=$PWD/target/release/rosetta

work=$(mktemp -d)
pids=()
pg_db=""
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
    if [ -n "$pg_db" ]; then
        PGOPTIONS=--client-min-messages=warning psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $pg_db" >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { free_ports 1; }
# free_ports N: N distinct free ports (held together while chosen, so none is handed out twice).
free_ports() {
    python3 -c 'import socket, sys
held = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in held: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in held))' "$1"
}
wait_for() { for _ in $(seq 1 150); do curl -sf "$1" >/dev/null && return 0; sleep 0.1; done; echo "nothing answers at $1" >&2; return 1; }

# Counts the answers with the expected status whose body contains EXPECT_BODY; the request
# comes from METHOD, BODY and HEADERS (one "Name: value" per line).
cat > "$work/check.lua" <<'LUA'
local expect_status = tonumber(os.getenv("EXPECT_STATUS") or "200")
local expect_body = os.getenv("EXPECT_BODY") or ""
wrk.method = os.getenv("METHOD") or "GET"
local body = os.getenv("BODY") or ""
if body ~= "" then wrk.body = body end
for line in string.gmatch(os.getenv("HEADERS") or "", "[^\n]+") do
    local name, value = string.match(line, "^([^:]+):%s*(.*)$")
    if name then wrk.headers[name] = value end
end
-- ROTATE: requests taken in turn from "PATH HEADER-NAME HEADER-VALUE" lines (each writer its
-- own account: writes to one row would measure that row's lock, not the gateway).
local rotation = {}
for line in string.gmatch(os.getenv("ROTATE") or "", "[^\n]+") do
    local path, name, value = string.match(line, "^(%S+) (%S+) (%S+)$")
    if path then table.insert(rotation, {path = path, name = name, value = value}) end
end
turn = 0
if #rotation > 0 then
    function request()
        turn = turn % #rotation + 1
        local pick = rotation[turn]
        local headers = {}
        for name, value in pairs(wrk.headers) do headers[name] = value end
        headers[pick.name] = pick.value
        return wrk.format(nil, pick.path, headers)
    end
end
local threads = {}
function setup(thread)
    -- Each wrk thread starts at another place in the rotation.
    thread:set("turn", #threads * 7)
    table.insert(threads, thread)
end
function init(args) ok = 0; bad = 0 end
function response(status, headers, body)
    if status == expect_status and string.find(body, expect_body, 1, true) then
        ok = ok + 1
    else
        bad = bad + 1
    end
end
function done(summary, latency, requests)
    local good, wrong = 0, 0
    for _, thread in ipairs(threads) do
        good = good + thread:get("ok")
        wrong = wrong + thread:get("bad")
    end
    io.write(string.format("CHECK %d %d %.0f %.0f\n", good, wrong,
        latency:percentile(50), latency:percentile(99)))
end
LUA

# wrk CONNECTIONS SECONDS URL [env assignments for check.lua…]: sets RATE (right answers per
# second), WRONG (wrong answers), P50 and P99 (microseconds).
measure() {
    local connections=$1 seconds=$2 url=$3; shift 3
    local out check
    out=$(env "$@" wrk -t"$THREADS" -c"$connections" -d"${seconds}s" --timeout 10s -s "$work/check.lua" "$url" 2>&1)
    check=$(printf '%s\n' "$out" | awk '$1=="CHECK"')
    if [ -z "$check" ]; then echo "wrk failed: $out" >&2; exit 1; fi
    local good
    read -r _ good WRONG P50 P99 <<<"$check"
    RATE=$(awk -v g="$good" -v s="$seconds" 'BEGIN {printf "%.0f", g / s}')
}

# The same as measure, with the connections split between two URLs (two gateway processes)
# measured at once: RATE and WRONG are their sums, P99 the higher of the two.
measure_two() {
    local connections=$1 seconds=$2 first=$3 second=$4; shift 4
    local half=$((connections / 2)) one two
    env "$@" wrk -t1 -c"$half" -d"${seconds}s" --timeout 10s -s "$work/check.lua" "$first" > "$work/first.txt" 2>&1 &
    one=$!
    env "$@" wrk -t1 -c"$half" -d"${seconds}s" --timeout 10s -s "$work/check.lua" "$second" > "$work/second.txt" 2>&1 &
    two=$!
    wait "$one" "$two" || { echo "wrk failed: $(cat "$work/first.txt" "$work/second.txt")" >&2; exit 1; }
    read -r _ good_one wrong_one _ p99_one <<<"$(awk '$1=="CHECK"' "$work/first.txt")"
    read -r _ good_two wrong_two _ p99_two <<<"$(awk '$1=="CHECK"' "$work/second.txt")"
    RATE=$(awk -v a="$good_one" -v b="$good_two" -v s="$seconds" 'BEGIN {printf "%.0f", (a + b) / s}')
    WRONG=$((wrong_one + wrong_two))
    P99=$(( p99_one > p99_two ? p99_one : p99_two ))
}

# measure, and CPU_US: the CPU time (user and system) the gateway spent per right answer.
cpu_measure() {
    local before after
    before=$(cpu_ticks "$gateway_pid")
    measure "$@"
    after=$(cpu_ticks "$gateway_pid")
    CPU_US=$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$RATE" -v s="$2" \
        'BEGIN {printf "%.0f", (n > 0 ? t * 1000000 / hz / (n * s) : 0)}')
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

bare_url=""
# A row between two runs of the bare handler: sets RATIO (right answers per second of the row
# over the bare handler's mean) and ROW_RATE, ROW_P99, ROW_WRONG.
against_bare() {
    local connections=$1 url=$2; shift 2
    measure "$connections" "$SECS" "$bare_url" EXPECT_BODY=ok; local before=$RATE
    measure "$connections" "$SECS" "$url" "$@"
    ROW_RATE=$RATE ROW_P99=$P99 ROW_WRONG=$WRONG
    measure "$connections" "$SECS" "$bare_url" EXPECT_BODY=ok; local after=$RATE
    BARE_RATE=$(( (before + after) / 2 ))
    RATIO=$(awk -v r="$ROW_RATE" -v b="$BARE_RATE" 'BEGIN {printf "%.2f", (b > 0 ? r / b : 0)}')
}

# A server learns that a client left only when it answers: the logins wrk abandons at the end
# of a run are still hashed, up to the hashing deadline (1.25 s). Waiting them out keeps that
# work from being counted against the next row.
drain_logins() { sleep 2; }

# The issue sets the read, flood and write goals for the embedded SQLite. On PostgreSQL, whose
# server shares these cores, the same figures are measured and shown beside SQLite's goal.
embedded_goal() { if [ "$backend" = sqlite ]; then echo "$1"; else echo "SQLite: $1"; fi; }
ms() { awk -v us="$1" 'BEGIN {printf "%.1f ms", us / 1000}'; }
row() { printf '| %-62s | %-26s | %-16s |\n' "$1" "$2" "$3"; }
wrong_note() { [ "$1" = 0 ] && echo "" || echo " ($1 wrong answers)"; }

token=bench-admin-token-16
# start_gateway DATABASE_URL: a gateway with every dialect on a free port; sets GATEWAY_PID,
# GATEWAY_OPS (its ops listener's URL) and GATEWAY_PORT[dialect].
start_gateway() {
    local ops_port dialect env_listen=() ports
    read -r -a ports <<< "$(free_ports 6)"
    ops_port=${ports[5]}
    declare -gA GATEWAY_PORT=()
    local at=0
    for dialect in struts code_sec rest code_result error_code; do
        GATEWAY_PORT[$dialect]=${ports[$at]}
        at=$((at + 1))
        env_listen+=("ROSETTA__DIALECTS__${dialect^^}__LISTEN=127.0.0.1:${GATEWAY_PORT[$dialect]}")
    done
    (cd "$work" && env RUST_LOG=warn "${env_listen[@]}" \
        ROSETTA__DATABASE__URL="$1" \
        ROSETTA__OPS__LISTEN="127.0.0.1:$ops_port" ROSETTA__OPS__ADMIN_TOKEN=$token \
        ROSETTA__SECURITY__BCRYPT_COST=$BCRYPT_COST \
        ROSETTA__SECURITY__LOGIN_ATTEMPTS_PER_IP_PER_MINUTE=0 \
        "$gateway" serve) & GATEWAY_PID=$!
    pids+=("$GATEWAY_PID")
    GATEWAY_OPS="http://127.0.0.1:$ops_port"
    wait_for "$GATEWAY_OPS/healthz"
}

bare_port=$(free_port)
"$peer" serve "127.0.0.1:$bare_port" & pids+=($!)
bare_url="http://127.0.0.1:$bare_port/"
wait_for "$bare_url"
bcrypt_us=$("$peer" bcrypt "$BCRYPT_COST" 20)
cores=$(nproc)
bound=$(awk -v c="$cores" -v us="$bcrypt_us" 'BEGIN {printf "%.0f", c * 1000000 / us}')
md5() { printf '%s' "$1" | md5sum | cut -d' ' -f1; }
PASSWORD=bench-pass-1
PASSWORD_MD5=$(md5 "$PASSWORD")

# Expired sessions left in a database (the seeded ones the janitor purges).
expired_sessions() {
    local query="SELECT count(*) FROM sessions WHERE expires_at < $(date +%s%3N) - 86400000"
    case $1 in
        sqlite://*) sqlite3 "${1#sqlite://}" "$query" ;;
        *) psql "$1" -tAc "$query" ;;
    esac
}

declare -A small=()
for run in $(for b in $BACKENDS; do echo "$b:small"; [ -n "$SEED" ] && echo "$b:large"; done); do
    backend=${run%:*} size=${run#*:}
    case $backend in
        sqlite) database_url="sqlite://$work/bench-$size.db" ;;
        postgres)
            pg_db="rosetta_bench_$$"
            PGOPTIONS=--client-min-messages=warning psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $pg_db" -c "CREATE DATABASE $pg_db"
            database_url="${PG_URL%/*}/$pg_db" ;;
        *) echo "unknown backend $backend (sqlite or postgres)" >&2; exit 2 ;;
    esac
    if [ "$size" = large ]; then
        # shellcheck disable=SC2086 # three numbers
        benches/seed.sh "$database_url" $SEED
    fi
    start_gateway "$database_url"
    gateway_pid=$GATEWAY_PID ops=$GATEWAY_OPS
    declare -A port=()
    for dialect in "${!GATEWAY_PORT[@]}"; do port[$dialect]=${GATEWAY_PORT[$dialect]}; done
    rss_kib=$(awk '/VmRSS/ {print $2}' "/proc/$gateway_pid/status")
    if [ "$size" = large ]; then
        # The janitor starts purging the seeded expired sessions at once: reads meanwhile.
        purging=$(expired_sessions "$database_url")
        measure 8 "$SECS" "http://127.0.0.1:${port[error_code]}/api/user/1000000" EXPECT_BODY='"error_code":0'
        purge_reads="$RATE/s, p99 $(ms "$P99")$(wrong_note "$WRONG")"
        purge_left=$(expired_sessions "$database_url")
    fi

    # One account per dialect (a login in one never ends another's session).
    declare -A phone=() id=()
    n=0
    for dialect in struts code_sec rest code_result error_code; do
        n=$((n + 1))
        phone[$dialect]=1390000000$n
        created=$(curl -sf -X POST "$ops/admin/users" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
            -d "{\"region\":\"86\",\"phone\":\"${phone[$dialect]}\",\"password\":\"$PASSWORD\",\"nickname\":\"bench$n\"}")
        id[$dialect]=$(printf '%s' "$created" | sed -E 's/.*"id":([0-9]+).*/\1/')
    done
    url() { printf 'http://127.0.0.1:%s%s' "${port[$1]}" "$2"; }
    json='Content-Type: application/json'
    form='Content-Type: application/x-www-form-urlencoded'

    ec_login="{\"username\":\"${phone[error_code]}\",\"password\":\"$PASSWORD\"}"
    st_login="userVO.userName=${phone[struts]}&userVO.password=$PASSWORD_MD5"
    st_token=$(curl -sf -D - -o /dev/null -X POST "$(url struts '/user/user!login.action')" -H "$form" -d "$st_login" \
        | awk -F': ' 'tolower($1)=="accesstoken" {gsub("\r",""); print $2}')
    cs_login="phone=${phone[code_sec]}&pwd=$PASSWORD_MD5"
    cs_sec=$(curl -sf -X POST "$(url code_sec /user/login)" -H "$form" -d "$cs_login" | sed -E 's/.*"sec":"([^"]+)".*/\1/')
    cr_login="{\"region\":\"86\",\"phone\":\"${phone[code_result]}\",\"password\":\"$PASSWORD\"}"
    cr_answer=$(curl -sf -D "$work/cr_headers" -X POST "$(url code_result /user/login)" -H "$json" -d "$cr_login")
    cr_wire_id=$(printf '%s' "$cr_answer" | sed -E 's/.*"id":"([^"]+)".*/\1/')
    cr_cookie=$(grep -i '^set-cookie:' "$work/cr_headers" | sed -E 's/^[^:]+: *([^;]+);.*/\1/')
    rest_login="{\"tel\":{\"dialCode\":86,\"number\":${phone[rest]}},\"password\":\"$PASSWORD\"}"
    # The writers: accounts of their own, each logged in to error_code, taken in turn.
    writer_pids=()
    for n in $(seq 1 "$WRITERS"); do
        (
            writer_phone=$((13700000000 + n))
            writer_id=$(curl -sf -X POST "$ops/admin/users" -H "Authorization: Bearer $token" -H "$json" \
                -d "{\"region\":\"86\",\"phone\":\"$writer_phone\",\"password\":\"$PASSWORD\",\"nickname\":\"writer$n\"}" \
                | sed -E 's/.*"id":([0-9]+).*/\1/')
            writer_token=$(curl -sf -X POST "$(url error_code /api/user/login)" \
                -d "{\"username\":\"$writer_phone\",\"password\":\"$PASSWORD\"}" | sed -E 's/.*"token_id":"([^"]+)".*/\1/')
            echo "/api/user/$writer_id/edit X-Auth-Token $writer_token" > "$work/writer-$n"
        ) & writer_pids+=($!)
        if (( n % 4 == 0 )); then wait "${writer_pids[@]}"; writer_pids=(); fi
    done
    if [ ${#writer_pids[@]} -gt 0 ]; then wait "${writer_pids[@]}"; fi
    writers=$(cat "$work"/writer-*)
    rm -f "$work"/writer-*

    echo
    echo "## $backend, $size database — rosetta $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $cores cores, wrk -t$THREADS, $SECS s per run"
    echo
    row "measurement" "figure" "goal"
    row "---" "---" "---"

    against_bare 32 "$(url error_code "/api/user/${id[error_code]}")" EXPECT_BODY='"error_code":0'
    row "error_code GET /api/user/<id> / bare handler (32 connections)" "$RATIO ($ROW_RATE vs $BARE_RATE/s)$(wrong_note "$ROW_WRONG")" "$(embedded_goal "≥ 0.35")"
    read_ratio=$RATIO

    # Reads alone, then the same reads beside a login flood.
    read_args=(EXPECT_BODY='"error_code":0')
    read_url=$(url error_code "/api/user/${id[error_code]}")
    measure 8 "$SECS" "$read_url" "${read_args[@]}"; alone=$RATE
    env METHOD=POST BODY="$ec_login" EXPECT_BODY='"error_code":0' \
        wrk -t"$THREADS" -c32 -d"$((SECS + 2))s" --timeout 10s -s "$work/check.lua" "$(url error_code /api/user/login)" > "$work/flood.txt" 2>&1 &
    flood_pid=$!
    sleep 1
    measure 8 "$SECS" "$read_url" "${read_args[@]}"; beside=$RATE; beside_p99=$P99
    wait "$flood_pid" || true
    drain_logins
    read -r _ logins_good logins_other _ logins_p99 <<<"$(awk '$1=="CHECK"' "$work/flood.txt")"
    row "reads during a 32-connection login flood / reads alone (8 conn.)" \
        "$(awk -v a="$beside" -v b="$alone" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}') ($beside vs $alone/s)" "$(embedded_goal "≥ 0.70")"
    row "read p99 during that flood (8 connections)" "$(ms "$beside_p99")" "$(embedded_goal "≤ 5 ms")"
    row "the flood's logins: p99 of every answer (busy ones included)" \
        "$(ms "$logins_p99") ($logins_good logged in, $logins_other busy)" "≤ 2 s"
    measure 32 "$SECS" "$(url error_code /api/user/login)" METHOD=POST BODY="$ec_login" EXPECT_BODY='"error_code":0'
    drain_logins
    login_rate=$RATE
    row "logins alone / bcrypt bound ($cores cores ÷ $(ms "$bcrypt_us") per verify)" \
        "$(awk -v l="$login_rate" -v b="$bound" 'BEGIN {printf "%.2f", l / b}') ($login_rate vs $bound/s)$(wrong_note "$WRONG")" "≥ 0.90"

    write_args=(METHOD=POST BODY='{"name":"bench"}' ROTATE="$writers" EXPECT_BODY='"error_code":0')
    against_bare 32 "$(url error_code /)" "${write_args[@]}"
    row "POST /api/user/<id>/edit, committed writes ($WRITERS writers, 32 conn.)" "$ROW_RATE/s, p99 $(ms "$ROW_P99"), $RATIO of bare$(wrong_note "$ROW_WRONG")" "$(embedded_goal "p99 ≤ 50 ms, ≥ 4,800/s")"
    write_rate=$ROW_RATE
    row "idle RSS after start-up" "$((rss_kib / 1024)) MiB" "≤ 64 MiB"
    if [ "$size" = small ]; then
        small[$backend:read]=$read_ratio small[$backend:login]=$login_rate small[$backend:write]=$write_rate
    else
        vs_small() { awk -v l="$1" -v s="$2" 'BEGIN {printf "%.2f", (s > 0 ? l / s : 0)}'; }
        row "large / small database: error_code read ratio" "$(vs_small "$read_ratio" "${small[$backend:read]}")" "≥ 0.90"
        row "large / small database: logins" "$(vs_small "$login_rate" "${small[$backend:login]}")" "≥ 0.90"
        row "large / small database: committed writes" "$(vs_small "$write_rate" "${small[$backend:write]}")" "≥ 0.90"
        row "reads (8 conn.) while the janitor purged $purging expired sessions" "$purge_reads; $purge_left left after" "p99 ≤ 5 ms"
    fi

    if [ "$backend" = postgres ]; then
        # Two gateway processes on one database, the same load split between them, against one
        # process alone measured right before.
        first_url=$(url error_code /)
        start_gateway "$database_url"
        second_pid=$GATEWAY_PID second_url="http://127.0.0.1:${GATEWAY_PORT[error_code]}/"
        read_path="api/user/${id[error_code]}"
        measure 32 "$SECS" "$first_url$read_path" "${read_args[@]}"; one=$RATE
        measure_two 32 "$SECS" "$first_url$read_path" "$second_url$read_path" "${read_args[@]}"
        row "two gateway processes / one: error_code reads (32 conn. in all)" \
            "$(awk -v t="$RATE" -v o="$one" 'BEGIN {printf "%.2f", (o > 0 ? t / o : 0)}') ($RATE vs $one/s, p99 $(ms "$P99"))$(wrong_note "$WRONG")" "≥ 0.80"
        measure 32 "$SECS" "$first_url" "${write_args[@]}"; one=$RATE
        measure_two 32 "$SECS" "$first_url" "$second_url" "${write_args[@]}"
        row "two gateway processes / one: committed writes (32 conn. in all)" \
            "$(awk -v t="$RATE" -v o="$one" 'BEGIN {printf "%.2f", (o > 0 ? t / o : 0)}') ($RATE vs $one/s, p99 $(ms "$P99"))$(wrong_note "$WRONG")" "≥ 0.80, p99 ≤ 50 ms"
        kill -TERM "$second_pid" 2>/dev/null; wait "$second_pid" 2>/dev/null || true
        unset 'pids[-1]'
    fi

    # One authenticated read and one login of every dialect. The reads have no goal of their
    # own (the issue's ≥ 0.35 is error_code's detail, above): they show each dialect's cost.
    read_row() {
        local label=$1; shift
        against_bare 32 "$@"
        row "$label / bare handler" "$RATIO ($ROW_RATE/s, p99 $(ms "$ROW_P99"))$(wrong_note "$ROW_WRONG")" "—"
    }
    read_row "struts readUser" "$(url struts '/user/user!readUser.action')" \
        METHOD=POST HEADERS=$'uid: '"${id[struts]}"$'\naccessToken: '"$st_token" EXPECT_BODY='"success":true'
    read_row "code_sec getUserInfo" "$(url code_sec /user/getUserInfo)" \
        METHOD=POST HEADERS="$form" BODY="uid=${id[code_sec]}&sec=$cs_sec" EXPECT_BODY='"code":"200"'
    read_row "rest GET /users/<id>" "$(url rest "/users/${id[rest]}")" EXPECT_BODY='"userId"'
    read_row "code_result GET /user/<id> (cookie)" "$(url code_result "/user/$cr_wire_id")" \
        HEADERS="Cookie: $cr_cookie" EXPECT_BODY='"code":200'
    read_row "error_code GET /api/user/<id>" "$(url error_code "/api/user/${id[error_code]}")" EXPECT_BODY='"error_code":0'
    # Logins are bound by bcrypt, not by the bare handler: each against the bcrypt bound.
    login_row() {
        local label=$1; shift
        measure 32 "$SECS" "$@"
        drain_logins
        row "$label / bcrypt bound" \
            "$(awk -v l="$RATE" -v b="$bound" 'BEGIN {printf "%.2f", l / b}') ($RATE/s, p99 $(ms "$P99"))$(wrong_note "$WRONG")" "≥ 0.90"
    }
    login_row "struts login" "$(url struts '/user/user!login.action')" \
        METHOD=POST HEADERS="$form" BODY="$st_login" EXPECT_BODY='"success":true'
    login_row "code_sec login" "$(url code_sec /user/login)" \
        METHOD=POST HEADERS="$form" BODY="$cs_login" EXPECT_BODY='"code":"200"'
    login_row "rest signin" "$(url rest /users/signin)" \
        METHOD=POST HEADERS="$json" BODY="$rest_login" EXPECT_BODY='"userId"'
    login_row "code_result login" "$(url code_result /user/login)" \
        METHOD=POST HEADERS="$json" BODY="$cr_login" EXPECT_BODY='"code":200'
    login_row "error_code login" "$(url error_code /api/user/login)" \
        METHOD=POST BODY="$ec_login" EXPECT_BODY='"error_code":0'

    if [ "$size" = small ]; then
        # Cutover modes. A second gateway plays error_code's legacy backend, on a copy of this
        # database (the same accounts, so comparisons agree; not the database itself, whose
        # stored mode switches it would follow and then proxy to itself).
        legacy_db="sqlite://$work/legacy-$backend.db"
        "$gateway" copy --from "$database_url" --to "$legacy_db" >"$work/copy.log" 2>&1 \
            || { cat "$work/copy.log" >&2; exit 1; }
        start_gateway "$legacy_db"
        legacy_pid=$GATEWAY_PID legacy_url="http://127.0.0.1:${GATEWAY_PORT[error_code]}"
        switch_mode() {
            curl -sf -X PUT "$ops/admin/dialects/error_code/mode" -H "Authorization: Bearer $token" \
                -H "$json" -d "$1" >/dev/null
        }
        legacy_read_url="$legacy_url/api/user/${id[error_code]}"
        # Both gateways and wrk share these cores, so a proxied or shadowed read's rate also
        # pays for the legacy backend's work; the CPU Rosetta itself spends per read tells the
        # two apart.
        measure 32 "$SECS" "$legacy_read_url" "${read_args[@]}"; direct=$RATE direct_p99=$P99
        switch_mode "{\"mode\":\"proxy\",\"legacy_url\":\"$legacy_url\"}"
        cpu_measure 32 "$SECS" "$read_url" "${read_args[@]}"; proxied_cpu=$CPU_US
        row "proxy mode: error_code reads via Rosetta / at the legacy directly" \
            "$(awk -v p="$RATE" -v d="$direct" 'BEGIN {printf "%.2f", (d > 0 ? p / d : 0)}') ($RATE vs $direct/s, p99 $(ms "$P99") vs $(ms "$direct_p99"))$(wrong_note "$WRONG")" "—"
        switch_mode '{"mode":"serve"}'
        cpu_measure 32 "$SECS" "$read_url" "${read_args[@]}"; served=$RATE served_p99=$P99 served_cpu=$CPU_US
        switch_mode '{"mode":"shadow"}'
        cpu_measure 32 "$SECS" "$read_url" "${read_args[@]}"; shadowed_cpu=$CPU_US
        # Every comparison is over once the legacy backend has answered (or timed out).
        sleep 1
        compared=$(curl -sf "$ops/admin/shadow" -H "Authorization: Bearer $token" \
            | python3 -c 'import json, sys
counts = {k: 0 for k in ("same", "accepted", "different", "failed", "skipped")}
for endpoint in json.load(sys.stdin)["endpoints"]:
    for k in counts: counts[k] += endpoint[k]
print(", ".join(f"{v} {k}" for k, v in counts.items()))')
        row "shadow mode: error_code reads / serve mode (same process)" \
            "$(awk -v s="$RATE" -v d="$served" 'BEGIN {printf "%.2f", (d > 0 ? s / d : 0)}') ($RATE vs $served/s, p99 $(ms "$P99") vs $(ms "$served_p99"))$(wrong_note "$WRONG")" "—"
        row "  its comparisons" "$compared" "—"
        row "Rosetta's CPU per read: serve, proxy, shadow" "$served_cpu, $proxied_cpu, $shadowed_cpu µs" "—"
        curl -sf -X DELETE "$ops/admin/dialects/error_code/mode" -H "Authorization: Bearer $token" >/dev/null
        kill -TERM "$legacy_pid" 2>/dev/null; wait "$legacy_pid" 2>/dev/null || true
        unset 'pids[-1]'
    fi

    kill -TERM "$gateway_pid" 2>/dev/null; wait "$gateway_pid" 2>/dev/null || true
    unset 'pids[-1]'
done
echo
echo "bare handler: GET / → ok (examples/bench_peer.rs); bcrypt cost $BCRYPT_COST: $(ms "$bcrypt_us") per verification"
