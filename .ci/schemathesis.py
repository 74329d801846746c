"""Schemathesis against every dialect of a running gateway, for a bounded time each.

Starts `rosetta serve` on the given database (production mode, every dialect on a free port),
checks each dialect's OpenAPI document (/openapi/<dialect>.json) with openapi-spec-validator,
opens a session through each dialect that carries one in headers or a cookie (so that the
authenticated routes are reached too), then runs schemathesis on each dialect with the checks
the gateway promises: no 5xx, and every answer's status, Content-Type, headers and body as the
document says. Exits non-zero on any failure, or when the gateway dies or logs a panic.

Usage: schemathesis.py ROSETTA_BINARY DATABASE_URL WORK_DIR
Environment: ROSETTA_SCHEMATHESIS_SECONDS (per dialect, default 30).
"""

import hashlib
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from openapi_spec_validator import validate as validate_spec

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    ]
)
DIALECTS = ["code_result", "code_sec", "error_code", "rest", "struts"]
PHONE = "13900000001"
PASSWORD = "secret1"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(method, url, body=None, headers=None, form=False):
    """One request: (status, headers, body bytes)."""
    data = None
    headers = dict(headers or {})
    if body is not None:
        if form:
            data = "&".join(f"{k}={v}" for k, v in body.items()).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


# Fake Qiniu keys: without them get_image_token answers 500 "not configured", as it should.
QINIU = """qiniu_access_key = "schemathesis-access-key"
qiniu_secret_key = "schemathesis-secret-key"
qiniu_bucket = "avatars"
qiniu_bucket_domain = "avatars.example.com"
"""


def config(database_url, ops_port, admin_token):
    text = f"""[database]
url = "{database_url}"
[ops]
listen = "127.0.0.1:{ops_port}"
admin_token = "{admin_token}"
"""
    for dialect in DIALECTS:
        text += f'[dialects.{dialect}]\nlisten = "127.0.0.1:0"\n'
        if dialect == "code_result":
            text += QINIU
    return text


def sessions(servers, ops, admin_token):
    """Session headers per dialect, from one account made through the admin API."""
    status, _, body = call(
        "POST",
        f"{ops}/admin/users",
        {"region": "86", "phone": PHONE, "password": PASSWORD, "nickname": "schemathesis"},
        {"Authorization": f"Bearer {admin_token}"},
    )
    assert status == 201, (status, body)
    headers = {d: [] for d in DIALECTS}

    _, _, body = call(
        "POST",
        f"{servers['error_code']}/api/user/login",
        {"username": PHONE, "password": PASSWORD},
    )
    headers["error_code"].append(f"X-Auth-Token: {json.loads(body)['data']['token_id']}")

    md5 = hashlib.md5(PASSWORD.encode()).hexdigest()
    _, answer, body = call(
        "POST",
        f"{servers['struts']}/user/user!login.action",
        {"userVO.userName": PHONE, "userVO.password": md5},
        form=True,
    )
    assert json.loads(body)["success"] is True, body
    headers["struts"] += [f"uid: {answer['uid']}", f"accessToken: {answer['accesstoken']}"]

    _, answer, body = call(
        "POST",
        f"{servers['code_result']}/user/login",
        {"region": "86", "phone": PHONE, "password": PASSWORD},
    )
    assert json.loads(body)["code"] == 200, body
    cookie = answer["Set-Cookie"].split(";")[0]
    headers["code_result"].append(f"Cookie: {cookie}")
    # code_sec carries its session (uid, sec) in body fields and rest needs none: the fuzzer
    # reaches their authenticated answers only as refusals.
    return headers


def main():
    binary, database_url = os.path.abspath(sys.argv[1]), sys.argv[2]
    work = os.path.abspath(sys.argv[3])
    seconds = int(os.environ.get("ROSETTA_SCHEMATHESIS_SECONDS", "30"))
    schemathesis = os.path.join(os.path.dirname(sys.executable), "schemathesis")
    os.makedirs(work, exist_ok=True)
    ops_port = free_port()
    admin_token = secrets.token_hex(16)
    settings = os.path.join(work, "rosetta.toml")
    with open(settings, "w") as file:
        file.write(config(database_url, ops_port, admin_token))
    log_path = os.path.join(work, "gateway.log")
    log = open(log_path, "w")
    gateway = subprocess.Popen([binary, "serve", "--config", settings], stdout=log, stderr=log)
    ops = f"http://127.0.0.1:{ops_port}"
    failed = []
    try:
        for _ in range(100):
            try:
                if call("GET", f"{ops}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if gateway.poll() is not None:
                sys.exit(f"the gateway exited: see {log_path}")
            time.sleep(0.2)
        servers = {}
        documents = {}
        for dialect in DIALECTS:
            status, _, body = call("GET", f"{ops}/openapi/{dialect}.json")
            assert status == 200, (dialect, status)
            document = json.loads(body)
            validate_spec(document)
            servers[dialect] = document["servers"][0]["url"]
            documents[dialect] = os.path.join(work, f"{dialect}.json")
            with open(documents[dialect], "w") as file:
                file.write(body.decode())
        print(f"5 OpenAPI documents valid ({', '.join(DIALECTS)})", flush=True)
        headers = sessions(servers, ops, admin_token)
        summary = []
        for dialect in DIALECTS:
            command = [
                schemathesis,
                "run",
                documents[dialect],
                "--url",
                servers[dialect],
                "--checks",
                CHECKS,
                "--max-time",
                str(seconds),
                "--seed",
                "20261201",
                "--request-timeout",
                "10",
                # One worker: hypothesis' lambda inspection is not thread-safe (schemathesis
                # 4.32 reported "AST constructor recursion depth mismatch" with two).
                "--workers",
                "1",
                "--output-truncate",
                "false",
                "--report",
                "junit",
                "--report-junit-path",
                os.path.join(work, f"{dialect}.junit.xml"),
            ]
            for header in headers[dialect]:
                command += ["-H", header]
            started = time.monotonic()
            # schemathesis keeps a cache in its working directory: the work directory, not the
            # checkout.
            run = subprocess.run(command, capture_output=True, text=True, cwd=work)
            elapsed = time.monotonic() - started
            output = run.stdout + run.stderr
            with open(os.path.join(work, f"{dialect}.txt"), "w") as file:
                file.write(output)
            cases = re.search(r"(\d+) generated", output)
            line = (
                f"{dialect}: {cases.group(1) if cases else '?'} test cases in {elapsed:.0f} s, "
                f"exit {run.returncode}"
            )
            summary.append(line)
            print(line, flush=True)
            if run.returncode != 0:
                failed.append(dialect)
                print(output[-6000:])
            if gateway.poll() is not None:
                failed.append(f"{dialect} (the gateway died)")
                break
        status = call("GET", f"{ops}/healthz")[0] if gateway.poll() is None else None
        if status != 200:
            failed.append("the gateway is not healthy after the runs")
    finally:
        gateway.terminate()
        try:
            gateway.wait(timeout=15)
        except subprocess.TimeoutExpired:
            gateway.kill()
        log.close()
    with open(log_path) as file:
        panics = [line for line in file if "panicked" in line]
    if panics:
        failed.append(f"the gateway logged panics: {panics[:3]}")
    if failed:
        sys.exit(f"schemathesis: failures in {', '.join(failed)} (reports in {work})")
    print("schemathesis: no failures")


if __name__ == "__main__":
    main()
