"""Self-test of tests/fake_accessowl.py.

Run: /usr/bin/python3 -m pytest -q tests/test_fake_accessowl.py
Each server is a real subprocess on an ephemeral loopback port with TLS
material from tests/mkcerts.sh; the client side is http.client + ssl.
"""

import http.client
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime
from urllib.parse import quote, urlencode

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
FAKE = os.path.join(HERE, "fake_accessowl.py")
BASIC = os.path.join(HERE, "fixtures", "basic.json")
TOKEN = "test-token-0123456789"

sys.path.insert(0, HERE)
sys.dont_write_bytecode = True          # leave no __pycache__ behind
import fake_accessowl  # noqa: E402  (for det_uuid / build_fixture)

ALICE = "20000000-0000-4000-8000-000000000001"
BOB = "20000000-0000-4000-8000-000000000002"
CAROL = "20000000-0000-4000-8000-000000000003"
SLACK = "10000000-0000-4000-8000-000000000001"
GITHUB = "10000000-0000-4000-8000-000000000002"
ST_ALICE_SLACK = "30000000-0000-4000-8000-000000000001"
ST_ALICE_GH = "30000000-0000-4000-8000-000000000002"
ST_ALICE_ENDED = "30000000-0000-4000-8000-000000000003"


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    d = tmp_path_factory.mktemp("certs")
    r = subprocess.run(["bash", os.path.join(HERE, "mkcerts.sh"), str(d)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "" and r.stderr == "", "mkcerts.sh must be quiet on success"
    for f in ("ca.pem", "ca.key", "server.pem", "server.key", "other-ca.pem", "other-ca.key"):
        assert (d / f).is_file()
    assert (d / "server.key").stat().st_mode & 0o077 == 0
    tok = d / "token"
    tok.write_text(TOKEN + "\n")
    return d


class Fake:
    """One fake server subprocess plus a keep-alive client connection."""

    def __init__(self, certs, tmp, *extra, fixture=BASIC):
        self.certs, self.port_file = certs, tmp / ("port-%d" % id(self))
        self.proc = subprocess.Popen(
            [sys.executable, FAKE, "--fixture", str(fixture), "--cert", str(certs / "server.pem"),
             "--key", str(certs / "server.key"), "--token-file", str(certs / "token"),
             "--port-file", str(self.port_file), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 10
        while not self.port_file.exists():
            assert self.proc.poll() is None, self.proc.communicate()
            assert time.time() < deadline, "fake did not start"
            time.sleep(0.02)
        self.port = int(self.port_file.read_text())
        self.ctx = ssl.create_default_context(cafile=str(certs / "ca.pem"))
        self.conn = self.connect()

    def connect(self, timeout=10, host="localhost"):
        return http.client.HTTPSConnection(host, self.port, context=self.ctx, timeout=timeout)

    def request(self, method, path, body=None, headers=None, auth=True, conn=None):
        h = {"Authorization": "Bearer " + TOKEN} if auth else {}
        h.update(headers or {})
        if body is not None and not isinstance(body, (str, bytes)):
            body = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        c = conn or self.conn
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        try:
            obj = json.loads(data)
        except (ValueError, RecursionError):
            obj = None
        return r.status, obj, r, data

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body, **kw):
        return self.request("POST", path, body, **kw)

    def ctl(self, method, path, body=None):
        status, obj, _, _ = self.request(method, "/_fake/" + path, body, auth=False)
        return status, obj

    def revoke(self, state=ST_ALICE_SLACK, reason="account locked", key=None, **kw):
        headers = {"Idempotency-Key": key} if key is not None else {}
        return self.post("/api/v1/access_revocations",
                         {"access_state_id": state, "reason": reason}, headers=headers, **kw)

    def follow(self, path, params):
        """Follow next_cursor; return (all rows, number of pages)."""
        rows, pages, cursor = [], 0, None
        while True:
            q = dict(params, **({"cursor": cursor} if cursor else {}))
            status, obj, _, _ = self.get(path + "?" + urlencode(q))
            assert status == 200, obj
            rows += obj["data"]
            pages += 1
            cursor = obj["meta"].get("next_cursor")
            if cursor is None:
                return rows, pages

    def stop(self, sig=signal.SIGTERM):
        self.conn.close()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=10)
        return self.proc.returncode, out, err


@pytest.fixture
def start(certs, tmp_path):
    started = []

    def _start(*extra, fixture=BASIC):
        f = Fake(certs, tmp_path, *extra, fixture=fixture)
        started.append(f)
        return f
    yield _start
    for f in started:
        rc, out, err = f.stop()
        assert (rc, out, err) == (0, "", ""), "fake must exit cleanly and quietly"


@pytest.fixture(scope="module")
def shared(certs, tmp_path_factory):
    f = Fake(certs, tmp_path_factory.mktemp("shared"))
    yield f
    assert f.stop() == (0, "", "")


@pytest.fixture
def fake(shared):
    assert shared.ctl("POST", "reset")[0] == 200
    shared.conn.close()
    return shared


# ---- process, TLS, connection -------------------------------------------

def test_sigint_clean_exit_and_port_file_removed(start):
    f = start()
    assert f.get("/api/v1/users")[0] == 200
    rc, out, err = f.stop(signal.SIGINT)
    assert (rc, out, err) == (0, "", "")
    assert not f.port_file.exists()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1", "example.com", "::"])
def test_refuses_non_loopback_host(certs, tmp_path, host):
    r = subprocess.run([sys.executable, FAKE, "--fixture", BASIC, "--cert", str(certs / "server.pem"),
                        "--key", str(certs / "server.key"), "--token-file", str(certs / "token"),
                        "--port-file", str(tmp_path / "p"), "--host", host],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and "loopback" in r.stderr and r.stdout == ""
    assert not (tmp_path / "p").exists()


def test_ipv6_loopback(start):
    try:
        socket.socket(socket.AF_INET6).bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    f = start("--host", "::1")
    c = http.client.HTTPSConnection("::1", f.port, context=f.ctx, timeout=5)
    assert f.get("/api/v1/users", conn=c)[0] == 200


def test_tls_verifies_by_name_and_ip_and_rejects_other_ca(fake, certs):
    assert fake.get("/api/v1/users", conn=fake.connect(host="127.0.0.1"))[0] == 200
    bad = ssl.create_default_context(cafile=str(certs / "other-ca.pem"))
    c = http.client.HTTPSConnection("localhost", fake.port, context=bad, timeout=5)
    with pytest.raises(ssl.SSLCertVerificationError):
        c.request("GET", "/api/v1/users")
    plain = socket.create_connection(("127.0.0.1", fake.port), timeout=5)   # no TLS at all
    try:
        plain.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        plain.recv(100)
    except OSError:
        pass
    plain.close()
    assert fake.get("/api/v1/users")[0] == 200   # still serving


def test_keep_alive_one_connection(fake):
    fake.get("/api/v1/users")
    sock = fake.conn.sock
    for path in ("/api/v1/users", "/api/v1/nope", "/api/v1/access_states"):
        status, _, resp, data = fake.get(path)
        assert int(resp.getheader("Content-Length")) == len(data)
    fake.get("/api/v1/users", auth=False)
    assert fake.conn.sock is sock


def test_chunked_request_body(fake):
    body = json.dumps({"access_state_id": ST_ALICE_SLACK, "reason": "chunked"}).encode()
    fake.conn.request("POST", "/api/v1/access_revocations", body=iter([body[:10], body[10:]]),
                      headers={"Authorization": "Bearer " + TOKEN}, encode_chunked=True)
    r = fake.conn.getresponse()
    r.read()
    assert r.status == 201


# ---- auth, routing, rate limit, latency -----------------------------------

@pytest.mark.parametrize("value", [None, "", "Bearer", "Bearer wrong", "bearer " + TOKEN,
                                   "Bearer  " + TOKEN, "Token " + TOKEN, "Bearer " + TOKEN + " "])
def test_auth_rejected(fake, value):
    headers = {} if value is None else {"Authorization": value}
    status, obj, _, _ = fake.get("/api/v1/users", auth=False, headers=headers)
    assert status == 401 and isinstance(obj["errors"]["detail"], str)


def test_routing(fake):
    assert fake.get("/api/v1/nothing")[0] == 404
    assert fake.get("/api/v1/users/%s/offboard" % ALICE)[0] == 404
    assert fake.get("/elsewhere", auth=False)[0] == 404
    status, _, resp, _ = fake.request("DELETE", "/api/v1/users")
    assert status == 405 and resp.getheader("Allow") == "GET"
    assert fake.request("PUT", "/api/v1/access_revocations", {})[0] == 405
    assert fake.request("HEAD", "/api/v1/users")[0] == 405
    assert fake.get("/api/v1/users")[0] == 200       # HEAD did not break framing


def test_rate_limit_rolling_hour(start):
    f = start("--rate-limit", "3")
    assert [f.get("/api/v1/users")[0] for _ in range(3)] == [200] * 3
    status, _, resp, _ = f.get("/api/v1/users")
    assert status == 429
    assert 3590 <= int(resp.getheader("Retry-After")) <= 3600
    assert f.get("/api/v1/users", auth=False)[0] == 401     # unauthenticated: not counted
    assert f.ctl("GET", "state")[0] == 200                 # control API is exempt
    f.ctl("POST", "clock", {"advance": 1800})
    status, _, resp, _ = f.get("/api/v1/users")
    assert status == 429 and 1790 <= int(resp.getheader("Retry-After")) <= 1800
    f.ctl("POST", "clock", {"advance": 1801})
    assert f.get("/api/v1/users")[0] == 200


def test_latency(start):
    f = start("--latency", "0.3")
    t = time.time()
    assert f.get("/api/v1/users")[0] == 200
    assert time.time() - t >= 0.3
    t = time.time()
    f.ctl("GET", "state")
    assert time.time() - t < 0.25


# ---- users -----------------------------------------------------------------

def emails(obj):
    return sorted(u["email"] for u in obj["data"])


def test_users_status_filter(fake):
    assert emails(fake.get("/api/v1/users")[1]) == ["Bob.Builder@Example.COM", "alice@example.com",
                                                    "erin@example.com"]
    assert len(fake.get("/api/v1/users?status=all")[1]["data"]) == 5
    assert emails(fake.get("/api/v1/users?status=offboarded")[1]) == ["carol@example.com"]
    assert fake.get("/api/v1/users?status=onboarding")[1]["data"] == []
    for bad in ("bogus", "", "ALL", "Active"):
        assert fake.get("/api/v1/users?status=" + bad)[0] == 400


def test_users_email_filter(fake):
    obj = fake.get("/api/v1/users?" + urlencode({"email": "bob.builder@example.com"}))[1]
    assert [u["id"] for u in obj["data"]] == [BOB]
    assert fake.get("/api/v1/users?email=carol%40example.com")[1]["data"] == []   # not active
    obj = fake.get("/api/v1/users?email=CAROL%40example.com&status=all")[1]
    assert [u["id"] for u in obj["data"]] == [CAROL]
    assert fake.get("/api/v1/users?email=bob")[1]["data"] == []             # exact, not substring
    user = obj["data"][0]
    for k in ("id", "email", "first_name", "last_name", "status", "full_name", "deactivated_at"):
        assert k in user
    assert not any(k.startswith("_") for k in user)


def test_get_user_envelope_and_404(fake, start):
    status, obj, _, _ = fake.get("/api/v1/users/" + ALICE)
    assert status == 200 and obj["data"]["email"] == "alice@example.com"
    assert fake.get("/api/v1/users/00000000-0000-4000-8000-000000000000")[0] == 404
    bare = start("--envelope", "bare")
    status, obj, _, _ = bare.get("/api/v1/users/" + ALICE)
    assert status == 200 and obj["id"] == ALICE and "data" not in obj
    status, obj, _, _ = bare.revoke()
    assert status == 201 and obj["status"] == "processing_access"
    assert bare.get("/api/v1/access_revocations/" + obj["id"])[1]["id"] == obj["id"]


def test_variant_ignores_filters(start):
    f = start("--ignore-email-filter", "--ignore-state-filter")
    assert len(f.get("/api/v1/users?email=alice%40example.com")[1]["data"]) == 3
    obj = f.get("/api/v1/access_states?grantee_user_id=" + ALICE)[1]
    assert len(obj["data"]) == 7


# ---- access states and paging ---------------------------------------------

def test_access_states_filters_and_fields(fake):
    obj = fake.get("/api/v1/access_states?grantee_user_id=" + ALICE)[1]
    assert [s["id"] for s in obj["data"]] == [ST_ALICE_SLACK, ST_ALICE_GH, ST_ALICE_ENDED]
    for s in obj["data"]:
        assert set(s) == {"id", "application_id", "grantee_user_id", "grantee_user_account_id",
                          "effective_start", "effective_end", "resource_id",
                          "target_permission_ids", "group_id"}
    assert [s["effective_end"] is None for s in obj["data"]] == [True, True, False]
    obj = fake.get("/api/v1/access_states?grantee_user_id=%s&application_id=%s" % (ALICE, GITHUB))[1]
    assert [s["id"] for s in obj["data"]] == [ST_ALICE_GH]
    obj = fake.get("/api/v1/access_states?application_id=" + SLACK)[1]
    assert len(obj["data"]) == 3
    obj = fake.get("/api/v1/access_states?grantee_user_id=%s&expand=grantee_user,application" % ALICE)[1]
    assert obj["data"][0]["grantee_user"]["id"] == ALICE
    assert obj["data"][0]["application"]["title"] == "Slack"


def test_omit_and_generate(start, tmp_path):
    fx = {"applications": [{"id": SLACK, "title": "Slack"}],
          "users": [{"id": ALICE, "email": "alice@example.com"}],
          "access_states": [{"id": "s1", "application_id": SLACK, "grantee_user_id": ALICE,
                             "_omit": ["effective_end"]}],
          "generate": {"users": {"count": 3, "seed": "u"},
                       "access_states": [{"count": 45, "grantee_user_id": ALICE, "ended_fraction": 0.2},
                                         {"count": 4, "grantee_user_id": None, "seed": "unl"}]}}
    path = tmp_path / "gen.json"
    path.write_text(json.dumps(fx))
    built = fake_accessowl.build_fixture(fx)
    assert len(built["users"]) == 4 and len(built["access_states"]) == 50
    assert built == fake_accessowl.build_fixture(fx)                      # deterministic
    assert fake_accessowl.det_uuid("x") == fake_accessowl.det_uuid("x") != fake_accessowl.det_uuid("y")
    f = start(fixture=path)
    rows, _ = f.follow("/api/v1/access_states", {"grantee_user_id": ALICE, "limit": 100})
    assert len(rows) == 46 and "effective_end" not in rows[0]
    assert sum(1 for r in rows[1:] if r["effective_end"] is not None) == 9
    assert len(f.get("/api/v1/users?status=all")[1]["data"]) == 4
    rows, _ = f.follow("/api/v1/access_states", {"limit": 100})
    assert sum(1 for r in rows if r["grantee_user_id"] is None) == 4


@pytest.fixture
def paged(fake):
    fake.ctl("POST", "data", {"generate": {"access_states": {"count": 45, "grantee_user_id": ALICE,
                                                             "seed": "p"}}})
    return fake


def test_cursor_paging(paged):
    status, obj, _, _ = paged.get("/api/v1/access_states?grantee_user_id=" + ALICE)
    assert len(obj["data"]) == 20 and obj["meta"]["limit"] == 20
    cur = obj["meta"]["next_cursor"]
    assert isinstance(cur, str) and "+" in cur and "/" in cur      # must be percent-encoded
    assert set(obj["meta"]) == {"limit", "next_cursor"}
    rows, pages = paged.follow("/api/v1/access_states", {"grantee_user_id": ALICE, "limit": 7})
    assert pages == 7 and len(rows) == 48 and len({r["id"] for r in rows}) == 48
    rows, pages = paged.follow("/api/v1/access_states", {"grantee_user_id": ALICE, "limit": 48})
    assert pages == 1                                           # exact fit: null on the only page
    q = "/api/v1/access_states?grantee_user_id=%s&limit=10" % ALICE
    cur = paged.get(q)[1]["meta"]["next_cursor"]
    assert paged.get(q + "&cursor=" + quote(cur, safe=""))[0] == 200
    assert paged.get(q + "&cursor=" + cur)[0] == 400            # '+' decoded as space
    assert paged.get("/api/v1/access_states?limit=10&cursor=" + quote(cur, safe=""))[0] == 400
    assert paged.get(q + "&cursor=" + quote(cur[:-4] + "AAAA", safe=""))[0] == 400
    for bad in ("", "abc", "MTA=", "%2B%2F8xMDA6eDp5Ono="):
        assert paged.get(q + "&cursor=" + bad)[0] == 400


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "", "1.5", "1e2"])
def test_bad_limit(fake, limit):
    assert fake.get("/api/v1/users?limit=" + limit)[0] == 400


def test_limit_bounds_and_max_limit(fake, start):
    assert fake.get("/api/v1/users?limit=1")[0] == 200
    assert fake.get("/api/v1/users?limit=100")[0] == 200
    f = start("--max-limit", "2")
    assert f.get("/api/v1/users?limit=3")[0] == 400
    assert len(f.get("/api/v1/users?limit=2")[1]["data"]) == 2


def test_page_meta(start):
    f = start("--meta", "page")
    obj = f.get("/api/v1/users?status=all&limit=2")[1]
    assert obj["meta"] == {"page": 1, "page_size": 2, "total_count": 5, "total_pages": 3}
    obj3 = f.get("/api/v1/users?status=all&limit=2&page=3")[1]
    assert obj3["meta"]["page"] == 3 and len(obj3["data"]) == 1
    assert f.get("/api/v1/users?status=all&limit=2&page=4")[1]["data"] == []
    assert f.get("/api/v1/users?page=0")[0] == 400
    b = start("--meta", "both")
    obj = b.get("/api/v1/users?status=all&limit=2")[1]
    assert obj["meta"]["total_pages"] == 3 and obj["meta"]["next_cursor"]
    rows, pages = b.follow("/api/v1/users", {"status": "all", "limit": 2})
    assert pages == 3 and len(rows) == 5


# ---- revocations -----------------------------------------------------------

def test_create_revocation(fake):
    status, obj, _, _ = fake.revoke(ST_ALICE_GH, "locked on host1")
    assert status == 201
    rev = obj["data"]
    assert set(rev) == {"id", "application_id", "reason", "status", "grantee_user_id", "inserted_at",
                        "permission_ids", "provisioning_type", "requestor_user_id", "resource_id"}
    assert rev["status"] == "processing_access" and rev["grantee_user_id"] == ALICE
    assert rev["application_id"] == GITHUB and rev["requestor_user_id"] is None
    assert rev["resource_id"] == "60000000-0000-4000-8000-000000000001"
    assert rev["permission_ids"] == ["50000000-0000-4000-8000-000000000002",
                                     "50000000-0000-4000-8000-000000000003"]
    assert rev["provisioning_type"] == "automatic"    # from the application in basic.json
    assert rev["inserted_at"].endswith("Z") and len(rev["inserted_at"]) == 20
    assert uuid.UUID(rev["id"]).version == 4
    assert fake.get("/api/v1/access_revocations/" + rev["id"])[1]["data"] == rev
    assert fake.get("/api/v1/access_revocations/00000000-0000-4000-8000-000000000000")[0] == 404
    state = fake.ctl("GET", "state")[1]
    assert state["revocations"][-1]["access_state_id"] == ST_ALICE_GH
    assert fake.revoke(ST_ALICE_SLACK)[1]["data"]["provisioning_type"] == "application_admin"


@pytest.mark.parametrize("body", [
    "not json", "", "[]", "null", '"x"', "{}",
    {"access_state_id": ST_ALICE_SLACK}, {"reason": "x"},
    {"access_state_id": 5, "reason": "x"}, {"access_state_id": ST_ALICE_SLACK, "reason": None},
    {"access_state_id": ST_ALICE_SLACK, "reason": ["x"]},
    {"access_state_id": ST_ALICE_SLACK, "reason": "   "},
    {"access_state_id": ST_ALICE_SLACK, "reason": "x" * 256},
    {"access_state_id": ST_ALICE_SLACK, "reason": "é" * 256},
    b"\xff\xfe{}",
])
def test_create_revocation_422(fake, body):
    assert fake.post("/api/v1/access_revocations", body)[0] == 422
    assert len(fake.ctl("GET", "state")[1]["revocations"]) == 1      # only the fixture's one


def test_reason_counts_code_points(fake):
    assert fake.revoke(reason="é" * 255)[0] == 201          # 510 bytes, 255 code points
    assert fake.revoke(reason="🔒" * 255)[0] == 201
    assert fake.revoke(reason="🔒" * 256)[0] == 422
    raw = json.dumps({"access_state_id": ST_ALICE_SLACK, "reason": "ü" * 255}, ensure_ascii=False)
    assert fake.post("/api/v1/access_revocations", raw.encode("utf-8"))[0] == 201
    raw = json.dumps({"access_state_id": ST_ALICE_SLACK, "reason": "ü" * 256}, ensure_ascii=False)
    assert fake.post("/api/v1/access_revocations", raw.encode("utf-8"))[0] == 422


def test_unknown_state_404(fake):
    assert fake.revoke("00000000-0000-4000-8000-000000000000")[0] == 404
    assert fake.revoke("not-a-uuid")[0] == 404


def test_list_revocations_filters(fake):
    fake.revoke(ST_ALICE_SLACK)
    fake.revoke(ST_ALICE_GH)
    obj = fake.get("/api/v1/access_revocations")[1]
    assert len(obj["data"]) == 3 and obj["meta"]["next_cursor"] is None
    assert len(fake.get("/api/v1/access_revocations?user_id=" + ALICE)[1]["data"]) == 2
    assert len(fake.get("/api/v1/access_revocations?status=revoked")[1]["data"]) == 1
    assert len(fake.get("/api/v1/access_revocations?status=processing_access&application_id="
                        + SLACK)[1]["data"]) == 1
    assert fake.get("/api/v1/access_revocations?status=done")[0] == 400
    rows, pages = fake.follow("/api/v1/access_revocations", {"limit": 1})
    assert pages == 3
    rid = rows[1]["id"]
    assert fake.ctl("POST", "revocations/" + rid, {"status": "revoked"})[0] == 200
    assert len(fake.get("/api/v1/access_revocations?status=revoked")[1]["data"]) == 2
    st = fake.get("/api/v1/access_states?grantee_user_id=" + ALICE)[1]["data"][0]
    assert st["effective_end"] is not None


def test_settle_rejected_with_a_reason(fake):
    status, obj, _, _ = fake.revoke(ST_ALICE_SLACK)
    assert status == 201
    rid = obj["data"]["id"]
    got = fake.get("/api/v1/access_revocations/" + rid)[1]["data"]
    assert got["status"] == "processing_access" and "reject_reason" not in got
    assert fake.ctl("POST", "revocations/" + rid,
                    {"status": "rejected", "reason": "still on call"})[0] == 200
    got = fake.get("/api/v1/access_revocations/" + rid)[1]["data"]
    assert (got["status"], got["reject_reason"]) == ("rejected", "still on call")
    st = fake.get("/api/v1/access_states?grantee_user_id=" + ALICE)[1]["data"]
    assert all(s["effective_end"] is None for s in st if s["id"] == ST_ALICE_SLACK)


# ---- idempotency -----------------------------------------------------------

def count_revs(f):
    return len(f.ctl("GET", "state")[1]["revocations"])


def test_idempotency(fake):
    assert fake.revoke(key="k-1")[0] == 201
    n = count_revs(fake)
    body = '{ "reason" : "account locked",\n "access_state_id": "%s" }' % ST_ALICE_SLACK
    assert fake.post("/api/v1/access_revocations", body, headers={"Idempotency-Key": "k-1"})[0] == 409
    assert fake.revoke(reason="other", key="k-1")[0] == 422
    assert fake.revoke(ST_ALICE_GH, key="k-1")[0] == 422
    assert count_revs(fake) == n
    assert fake.revoke(key="k-2")[0] == 201         # new key, same body: executed again
    keys = fake.ctl("GET", "state")[1]["idempotency_keys"]
    assert [k["key"] for k in keys] == ["k-1", "k-2"] and isinstance(keys[0]["t"], float)


def test_idempotency_key_remembered_even_on_failure(fake):
    assert fake.revoke("00000000-0000-4000-8000-000000000000", key="fail-1")[0] == 404
    assert fake.revoke("00000000-0000-4000-8000-000000000000", key="fail-1")[0] == 409
    assert fake.post("/api/v1/access_revocations", "junk", headers={"Idempotency-Key": "j"})[0] == 422
    assert fake.post("/api/v1/access_revocations", "junk", headers={"Idempotency-Key": "j"})[0] == 409
    assert fake.revoke(key="x", auth=False)[0] == 401             # not remembered
    assert fake.revoke(key="x")[0] == 201


@pytest.mark.parametrize("key", ["", "k" * 256, "tab\there", "nul\x01", "caf\xe9", "del\x7f"])
def test_idempotency_key_malformed(fake, key):
    assert fake.revoke(key=key)[0] == 400
    assert count_revs(fake) == 1


def test_idempotency_key_limits_ok(fake):
    assert fake.revoke(key="k" * 255)[0] == 201
    assert fake.revoke(key="a b ~!")[0] == 201
    assert fake.get("/api/v1/users", headers={"Idempotency-Key": ""})[0] == 200   # GET: ignored


def test_idempotency_expiry_with_fake_clock(fake):
    assert fake.revoke(key="old")[0] == 201
    fake.ctl("POST", "clock", {"advance": 13 * 86400})
    assert fake.revoke(key="old")[0] == 409
    st, obj = fake.ctl("POST", "clock", {"advance": 86400 + 1})
    assert st == 200 and obj["clock_offset"] == 14 * 86400 + 1
    status, obj, _, _ = fake.revoke(key="old")
    assert status == 201
    inserted = datetime.strptime(obj["data"]["inserted_at"], "%Y-%m-%dT%H:%M:%S%z").timestamp()
    assert abs(inserted - (time.time() + 14 * 86400)) < 5
    assert fake.ctl("POST", "clock", {"advance": "x"})[0] == 400


# ---- faults and recording --------------------------------------------------

def test_fault_status_count_and_matching(fake):
    st, obj = fake.ctl("POST", "faults", [
        {"method": "POST", "path": "/api/v1/access_revocations", "action": "status", "status": 503,
         "retry_after": 2, "count": 2},
        {"method": "GET", "path": "/api/v1/users", "action": "status", "status": 500}])
    assert st == 200 and obj["queued"] == 2
    assert fake.get("/api/v1/access_states")[0] == 200
    status, obj, resp, _ = fake.revoke(key="f1")
    assert status == 503 and resp.getheader("Retry-After") == "2" and "errors" in obj
    assert fake.revoke(key="f1")[0] == 503                 # "before": key not remembered
    assert fake.get("/api/v1/users/" + ALICE)[0] == 500    # prefix match
    assert fake.revoke(key="f1")[0] == 201
    assert fake.get("/api/v1/users")[0] == 200
    assert fake.ctl("GET", "faults")[1] == []
    fake.ctl("POST", "faults", {"action": "status", "status": 502, "count": 5})
    fake.ctl("DELETE", "faults")
    assert fake.get("/api/v1/users")[0] == 200


def test_fault_retry_at_a_date_on_the_fake_clock(fake):
    from email.utils import parsedate_to_datetime
    fake.ctl("POST", "clock", {"advance": 86400})
    fake.ctl("POST", "faults", [
        {"action": "status", "status": 429, "retry_at": 90},
        {"action": "status", "status": 429, "retry_at": 90, "date_form": "rfc850"},
        {"action": "status", "status": 429, "retry_at": 90, "date_form": "asctime"},
        {"action": "status", "status": 429, "retry_after": "soon"}])
    got = []
    for _ in range(4):
        status, _, resp, _ = fake.get("/api/v1/users")
        assert status == 429
        got.append((resp.getheader("Retry-After"), resp.getheader("Date")))
    imf, rfc850, asctime, garbage = got
    # the server's Date follows its clock, a day ahead; the date is 90 s on
    date = parsedate_to_datetime(imf[1]).timestamp()
    assert abs(date - (time.time() + 86400)) < 5
    assert parsedate_to_datetime(imf[0]).timestamp() - date in (89, 90, 91)
    assert re.fullmatch(r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT",
                        imf[0])
    assert re.fullmatch(r"[A-Z][a-z]+day, \d\d-[A-Z][a-z]{2}-\d\d \d\d:\d\d:\d\d GMT",
                        rfc850[0])
    assert re.fullmatch(r"[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}",
                        asctime[0])
    assert garbage[0] == "soon"
    for rule in ({"action": "status", "status": 429, "retry_at": "x"},
                 {"action": "status", "status": 429, "retry_at": 1, "retry_after": 1},
                 {"action": "status", "status": 429, "retry_at": 1, "date_form": "iso"}):
        assert fake.ctl("POST", "faults", rule)[0] == 400


@pytest.mark.parametrize("rule", [
    {"action": "explode"}, {"action": "status"}, {"action": "status", "status": 99},
    {"action": "close", "count": 0}, {"action": "close", "when": "later"},
    {"action": "slow", "seconds": -1}, {"action": "close", "method": 5}, "nope"])
def test_fault_rule_validation(fake, rule):
    assert fake.ctl("POST", "faults", [{"action": "close"}, rule])[0] == 400
    assert fake.ctl("GET", "faults")[1] == []


def test_fault_after_lost_response_then_409(fake):
    fake.ctl("POST", "faults", {"method": "POST", "path": "/api/v1/access_revocations",
                                "action": "close", "when": "after"})
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, ssl.SSLError)):
        fake.revoke(key="lost")
    fake.conn.close()
    assert count_revs(fake) == 2
    assert fake.revoke(key="lost")[0] == 409
    fake.ctl("POST", "faults", {"method": "POST", "action": "status", "status": 504, "when": "after"})
    assert fake.revoke(ST_ALICE_GH, key="lost2")[0] == 504
    assert fake.revoke(ST_ALICE_GH, key="lost2")[0] == 409
    assert count_revs(fake) == 3
    reqs = fake.ctl("GET", "requests")[1]
    assert [r["status"] for r in reqs] == [None, 409, 504, 409]
    assert reqs[0]["fault"] == "close"


def test_fault_slow_and_hang(fake):
    fake.ctl("POST", "faults", [{"action": "slow", "seconds": 0.4, "path": "/api/v1/users"},
                                {"action": "hang", "seconds": 1, "path": "/api/v1/users"}])
    t = time.time()
    assert fake.get("/api/v1/users")[0] == 200
    assert 0.4 <= time.time() - t < 2
    c = fake.connect(timeout=0.3)
    with pytest.raises((TimeoutError, socket.timeout)):
        fake.get("/api/v1/users", conn=c)
    c.close()
    time.sleep(0.8)
    assert fake.get("/api/v1/users")[0] == 200
    reqs = fake.ctl("GET", "requests")[1]
    assert [r["status"] for r in reqs] == [200, None, 200]


def test_fault_garbage_deep_oversized(fake):
    fake.ctl("POST", "faults", [{"action": "garbage"}, {"action": "deep"},
                                {"action": "oversized", "bytes": 300000},
                                {"action": "oversized", "bytes": 50000000}])
    status, obj, _, data = fake.get("/api/v1/users")
    assert status == 200 and obj is None and data
    status, _, _, data = fake.get("/api/v1/users")
    assert status == 200 and data.count(b"[") == 10000 and data.count(b"]") == 10000
    with pytest.raises(RecursionError):
        json.loads(data)
    status, obj, resp, data = fake.get("/api/v1/users")
    assert status == 200 and len(data) == 300000 and obj["data"] == []
    c = fake.connect()
    c.request("GET", "/api/v1/users", headers={"Authorization": "Bearer " + TOKEN})
    r = c.getresponse()
    assert r.status == 200 and r.getheader("Content-Length") == "50000000"
    assert len(r.read(100000)) == 100000
    c.close()                                  # client gives up; fake must not care
    assert fake.get("/api/v1/users")[0] == 200


def test_fault_bloat_and_body(fake):
    fake.ctl("POST", "faults", [{"action": "bloat", "bytes": 5000, "path": "/api/v1/users",
                                 "count": 2},
                                {"action": "body", "body": {"data": {"id": "x", "status": "\x1b[2J"}},
                                 "status": 201, "when": "after", "method": "POST"}])
    status, obj, _, data = fake.get("/api/v1/users?status=all")
    assert status == 200 and obj["data"]
    assert all(len(u["padding"]) == 5000 and "email" in u for u in obj["data"])
    assert fake.get("/api/v1/users?status=all")[1]["data"][0]["padding"]
    assert "padding" not in fake.get("/api/v1/users?status=all")[1]["data"][0]
    before = count_revs(fake)
    status, obj = fake.revoke(key="b")[:2]
    assert status == 201 and obj == {"data": {"id": "x", "status": "\x1b[2J"}}
    assert count_revs(fake) == before + 1      # "after": executed first
    assert fake.ctl("POST", "faults", {"action": "body"})[0] == 400


def test_fault_close_before(fake):
    fake.ctl("POST", "faults", {"action": "close", "method": "*", "path": "/api/v1/"})
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, ssl.SSLError)):
        fake.revoke(key="c")
    fake.conn.close()
    assert count_revs(fake) == 1
    assert fake.revoke(key="c")[0] == 201


def test_hang_ends_on_sigterm(start):
    f = start()
    f.ctl("POST", "faults", {"action": "hang", "seconds": 30})
    c = f.connect(timeout=20)
    t = threading.Thread(target=lambda: pytest.raises(Exception, f.get, "/api/v1/users", conn=c))
    t.start()
    time.sleep(0.3)
    t0 = time.time()
    f.proc.send_signal(signal.SIGTERM)
    f.proc.wait(timeout=5)
    assert time.time() - t0 < 3
    t.join(5)


def test_request_record(fake):
    fake.ctl("DELETE", "requests")
    fake.get("/api/v1/users?status=all&email=a%40b.c", headers={"X-Test": "1"})
    fake.revoke(key="rec")
    fake.get("/nowhere", auth=False)
    fake.ctl("GET", "state")
    reqs = fake.ctl("GET", "requests")[1]
    assert [(r["method"], r["path"], r["status"]) for r in reqs] == [
        ("GET", "/api/v1/users", 200), ("POST", "/api/v1/access_revocations", 201),
        ("GET", "/nowhere", 404)]
    assert reqs[0]["query"] == {"status": "all", "email": "a@b.c"}
    assert reqs[0]["headers"]["x-test"] == "1"
    assert reqs[0]["headers"]["authorization"] == "Bearer " + TOKEN
    assert reqs[1]["headers"]["idempotency-key"] == "rec"
    assert json.loads(reqs[1]["body"]) == {"access_state_id": ST_ALICE_SLACK, "reason": "account locked"}
    assert reqs[0]["t"] <= reqs[1]["t"] <= reqs[2]["t"] <= time.time()
    fake.ctl("DELETE", "requests")
    assert fake.ctl("GET", "requests")[1] == []


def test_control_api_errors_and_data_replace(fake):
    assert fake.ctl("GET", "nothing")[0] == 404
    assert fake.ctl("POST", "state")[0] == 405
    assert fake.request("POST", "/_fake/faults", "{not json", auth=False)[0] == 400
    assert fake.ctl("POST", "data", {"users": "x"})[0] == 400
    st, obj = fake.ctl("POST", "data", {"users": [{"id": "u9", "email": "new@example.com"}]})
    assert st == 200 and obj["users"] == 1 and obj["access_states"] == 7
    assert [u["id"] for u in fake.get("/api/v1/users")[1]["data"]] == ["u9"]
    assert fake.ctl("POST", "revocations/nope", {"status": "revoked"})[0] == 404
    rid = fake.get("/api/v1/access_revocations")[1]["data"][0]["id"]
    assert fake.ctl("POST", "revocations/" + rid, {"status": "bogus"})[0] == 400
