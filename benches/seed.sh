#!/usr/bin/env bash
# Fills a Rosetta database with a large population, for measuring that the gateway's costs stay
# flat as the data grows: USERS accounts (phone 150xxxxxxxx, region 86, all with the password
# `seed-pass-1`), SESSIONS sessions spread over the accounts and the five dialects (a quarter of
# them expired over a day ago, for the janitor to purge), and GROUPS groups of five members.
# Seeded ids start at 1,000,000, so accounts made later get higher ones.
#
#   benches/seed.sh URL [USERS] [SESSIONS] [GROUPS]
#   benches/seed.sh sqlite:///tmp/big.db                      # 1,000,000 / 2,000,000 / 100,000
#   benches/seed.sh postgres://postgres@127.0.0.1/big 10000 20000 1000
#
# Applies the migrations first (`rosetta migrate`); the database must hold no seeded rows yet.
# Needs the release build (benches/ratios.sh makes it), and sqlite3 or psql.
set -euo pipefail
cd "$(dirname "$0")/.."
url=${1:?usage: benches/seed.sh URL [USERS] [SESSIONS] [GROUPS]}
users=${2:-1000000}
sessions=${3:-2000000}
groups=${4:-100000}
gateway=$PWD/target/release/rosetta
peer=$PWD/target/release/examples/bench_peer
[ -x "$gateway" ] && [ -x "$peer" ] || cargo build --release --quiet --bin rosetta --example bench_peer

ROSETTA__DATABASE__URL="$url" RUST_LOG=warn "$gateway" migrate
# The stored credential is bcrypt over the lowercase md5 hex of the password.
canonical=$(printf '%s' seed-pass-1 | md5sum | cut -d' ' -f1)
hash=$("$peer" hash 10 "$canonical")
now=$(date +%s%3N)
# Times are worked out here: PostgreSQL would multiply two integer literals as 32-bit ones.
day=86400000

# One statement per table over a generated sequence: `$series N` yields i = 0 … N-1.
sql() {
    local series=$1
    cat <<SQL
INSERT INTO users (id, nickname, created_at, updated_at)
    SELECT 1000000 + i, 'seed' || i, $now, $now FROM $(printf "$series" "$users");
INSERT INTO phone_identities (region, number, user_id)
    SELECT '86', CAST(15000000000 + i AS TEXT), 1000000 + i FROM $(printf "$series" "$users");
INSERT INTO credentials (user_id, password_hash, updated_at)
    SELECT 1000000 + i, '$hash', $now FROM $(printf "$series" "$users");
INSERT INTO data_versions (user_id) SELECT 1000000 + i FROM $(printf "$series" "$users");
INSERT INTO sessions (token_hash, user_id, dialect, client_id, created_at, expires_at)
    SELECT 'seed-' || i, 1000000 + (i % $users),
        CASE i % 5 WHEN 0 THEN 'error_code' WHEN 1 THEN 'struts' WHEN 2 THEN 'code_sec'
                   WHEN 3 THEN 'rest' ELSE 'code_result' END,
        NULL, $((now - 3 * day)),
        CASE WHEN i % 4 = 0 THEN $((now - 2 * day)) ELSE $((now + 30 * day)) END
    FROM $(printf "$series" "$sessions");
INSERT INTO chat_groups (id, name, creator_id, max_member_count, created_at, updated_at)
    SELECT 1000000 + i, 'group' || i, 1000000 + ((i * 5) % $users), 500, $now, $now
    FROM $(printf "$series" "$groups");
INSERT INTO group_members (group_id, user_id, role, updated_at)
    SELECT 1000000 + (i / 5), 1000000 + ((i / 5) * 5 + i % 5) % $users,
        CASE WHEN i % 5 = 0 THEN 0 ELSE 1 END, $now
    FROM $(printf "$series" "$((groups * 5))");
SQL
}

started=$(date +%s)
case $url in
    sqlite://*)
        # A recursive count; the seeding alone runs without fsyncs.
        series='(WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < %s) SELECT i FROM seq)'
        { echo "PRAGMA synchronous = OFF; BEGIN;"; sql "$series"; echo "COMMIT;"; } \
            | sqlite3 "${url#sqlite://}"
        ;;
    postgres://* | postgresql://*)
        series='generate_series(0, %s - 1) AS seq(i)'
        { echo "BEGIN;"; sql "$series"
          echo "SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users));"
          echo "SELECT setval(pg_get_serial_sequence('chat_groups', 'id'), (SELECT max(id) FROM chat_groups));"
          # What autovacuum would soon do on its own, in the middle of the measurements.
          echo "COMMIT; VACUUM ANALYZE;"; } \
            | PGOPTIONS=--client-min-messages=warning psql -q -v ON_ERROR_STOP=1 "$url" >/dev/null
        ;;
    *) echo "unknown database URL $url" >&2; exit 2 ;;
esac
echo "seeded $users users, $sessions sessions, $groups groups in $(( $(date +%s) - started )) s"
