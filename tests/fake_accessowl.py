#!/usr/bin/python3
"""Fake AccessOwl API server for pam_accessowl tests (Python 3 stdlib only).

It follows AccessOwl's API reference (https://docs.accessowl.com/api-reference)
and, where that is silent, the behaviour this file documents below: HTTPS,
bearer token, cursor paging, idempotency (400/409/422, 14-day memory), 429 +
Retry-After; and it records every API request so tests can assert on what
the client sent.

Command line
------------
  /usr/bin/python3 tests/fake_accessowl.py --fixture FILE --cert server.pem
      --key server.key --token-file TOKENFILE --port-file PATH
      [--port 0] [--host 127.0.0.1] [--envelope data|bare]
      [--meta cursor|page|both] [--ignore-email-filter] [--ignore-state-filter]
      [--latency SECONDS] [--rate-limit N] [--max-limit 100]

  --host         loopback only (127.0.0.0/8, ::1, "localhost"); anything else
                 is refused with exit status 2.
  --port         0 (default) = ephemeral. Once listening, the port number is
                 written to --port-file atomically (tmp file + rename); wait for
                 that file. The file is removed again on clean exit.
  --token-file   the valid token (trailing CR/LF stripped).
  --envelope     single objects (GET users/{id}, access_revocations/{id},
                 applications/{id}, the 201 of POST) as {"data": {...}} (default,
                 like live) or bare (like the docs). Lists are always data+meta.
  --meta         cursor (default): meta = {"limit", "next_cursor"} (null on
                 the last page). page: meta = {"page", "page_size",
                 "total_count", "total_pages"}, query "page" (1-based) selects
                 the page. both: all fields, the cursor drives.
  --ignore-email-filter   GET /users ignores "email" (older server).
  --ignore-state-filter   GET /access_states ignores grantee_user_id and
                 application_id (returns every state).
  --latency S    sleep S seconds (float) before answering each API request.
  --rate-limit N at most N authenticated API requests per rolling hour (fake
                 clock) per token; then 429 with "Retry-After: <int seconds>".
                 Requests answered 429 do not use up the budget.
  --max-limit    largest accepted "limit" (default 100).
SIGTERM/SIGINT: clean exit, status 0. Nothing goes to stdout; only genuine
errors (tracebacks of bugs in the fake) go to stderr.

API (paths under /api/v1; JSON; errors are {"errors": {"detail": "..."}})
------------------------------------------------------------------------
Order of processing: read request -> record it -> --latency -> first matching
fault rule if "before" -> auth (401 unless "Authorization: Bearer <token>"
exactly) -> rate limit (429) -> route (404 unknown path, 405 wrong method)
-> handler -> fault rule if "after".
  GET  /users               status (absent=active only, all, or one status;
                            else 400), email (case-insensitive exact). Paged.
  GET  /users/{id}          404 if unknown.
  GET  /access_states       grantee_user_id, application_id, expand (only
                            grantee_user and application are expanded). Paged.
  POST /access_revocations  body {"access_state_id": str, "reason": str}:
                            non-JSON / not an object / missing or non-string
                            field / blank reason / reason > 255 code points
                            -> 422; unknown state -> 404; else 201 with the
                            AccessRevocation (status processing_access).
                            Ended states and states already under revocation
                            are accepted (the real behaviour is unknown).
  GET  /access_revocations  status (400 if not a documented value), user_id,
                            application_id. Paged.
  GET  /access_revocations/{id}, GET /applications, GET /applications/{id}.
Paging: limit (default 20, integer 1..--max-limit, else 400); cursor (400 if
garbled, from another fake instance, or used with different filter values).
Cursors are standard base64 and always contain "+" and "/": a client that
does not percent-encode them gets 400.
Idempotency-Key (POST only, optional): 400 if empty, > 255 chars, repeated,
or with characters outside printable ASCII 0x20-0x7e. A key is remembered
(once auth and rate limit passed, whatever the outcome) for 14 days of fake
clock: same parsed-JSON body -> 409, different body -> 422; not executed.

Control API (no auth, never recorded, no faults/latency; prefix /_fake/)
------------------------------------------------------------------------
  POST   /_fake/faults    JSON list of rules (or one rule) appended to the queue:
     {"method": "POST"|"GET"|...|"*", "path": "/api/v1/..." (prefix match),
      "action": A, "count": 1, "when": "before"|"after"} with A one of
     "status" (+ "status": 503, optional "retry_after": 2 or any string, or
     "retry_at": seconds from now on the fake clock, sent as an HTTP-date
     in "date_form" "imf" (IMF-fixdate, the default), "rfc850" or
     "asctime"),
     "slow" (+ "seconds": 2; delay, then normal answer),
     "hang" (+ "seconds": 30; send nothing, then close; ends early on shutdown),
     "garbage" (200, body not JSON), "oversized" (+ "bytes": 50000000; 200,
     streamed body of exactly that size with Content-Length),
     "close" (close without any response), "deep" (+ "depth": 10000; 200 with
     JSON nested that deep), "bloat" (+ "bytes": N; the normal answer, every
     row of its "data" list given a "padding" string of N bytes: a hostile
     server; "before" and "after" alike), "body" (+ "body": any JSON value,
     "status": 200; answer exactly that: a server saying anything). "after"
     executes the request first (stored, key remembered) and then answers
     with the fault: a lost response. Each request
     takes the first matching rule; count is decremented, rule dropped at 0.
     Invalid rules -> 400, nothing queued.
  GET    /_fake/faults    the queue;  DELETE /_fake/faults  clears it.
  GET    /_fake/requests  every non-control request in arrival order: {"method",
     "path", "query": {name: first value}, "raw_query", "headers": {lower-case
     name: value}, "body": raw text, "status": answered status or null
     (hang/close), "fault": action or null, "t": time.time() of arrival}.
  DELETE /_fake/requests  clears the record.
  GET    /_fake/state     {"revocations": [... each also carrying
     "access_state_id" and "idempotency_key"], "idempotency_keys": [{"key",
     "body", "t" (fake clock)}], "clock_offset": s, "now": RFC 3339}.
  POST   /_fake/clock     {"advance": seconds}: fake clock = real time + offset.
     Drives inserted_at, idempotency expiry, the rate-limit window, the
     Date header of every answer and a fault's "retry_at".
  POST   /_fake/data      fixture-shaped object; each of users, access_states,
     applications, access_revocations that is present replaces that
     collection ("generate" is applied too); absent ones are kept.
  POST   /_fake/revocations/{id}  {"status": "revoked"|"rejected"|...}; revoked
     also sets the source state's effective_end to now; rejected takes an
     optional "reason", shown as the revocation's "reject_reason".
  POST   /_fake/reset     back to the startup fixture; clears revocations, keys,
     faults, record, rate window and clock offset.

Fixture format (JSON)
---------------------
  {"users": [User...], "access_states": [AccessState...],
   "applications": [{"id", "title", ...}], "access_revocations": [...],
   "generate": {...}}
Field names as in the API doc. Users need "id" and "email"; missing documented
fields get defaults (status "active", names null, ...). Access states need
"id" and "application_id"; defaults: grantee_user_id null, effective_end null,
resource_id null, target_permission_ids [], group_id null, generated
grantee_user_account_id. Keys starting with "_" are private (never served);
"_omit": ["effective_end"] drops those keys from the served row (e.g. to test
a state without an effective_end key). "generate" (object or list of objects
per kind) appends deterministic rows:
  "users": {"count": 50, "status": "active", "email_domain": "example.com",
            "seed": "gen0"}   -> emails "<seed>-user<i>@<domain>"
  "access_states": {"count": 120, "grantee_user_id": "<uuid>" | null | "*",
            "application_id": "<uuid>", "ended_fraction": 0.25,
            "resource_id": null, "seed": "gen0"}
     grantee_user_id: a uuid = that user; null = unlinked rows; absent or "*"
     = round-robin over all users. application_id absent = round-robin over
     applications. ended_fraction of rows (spread evenly) get an effective_end.
Ids of generated rows come from det_uuid(seed-string): importable helpers are
det_uuid() and build_fixture().
"""

import argparse
import base64
import hashlib
import hmac
import json
import math
import os
import re
import secrets
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
import traceback
import uuid
import ipaddress
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

USER_STATUSES = ("onboarding_provisioning_planned", "onboarding", "active", "inactive",
                 "offboarding_planned", "offboarding", "offboarded")
REVOCATION_STATUSES = ("processing_access", "rejected", "revoked")
REVOCATION_FIELDS = ("id", "application_id", "reason", "status", "grantee_user_id",
                     "inserted_at", "permission_ids", "provisioning_type",
                     "requestor_user_id", "resource_id")
IDEMPOTENCY_TTL = 14 * 86400
RATE_WINDOW = 3600
MAX_REQUEST_BODY = 1 << 20
FIXED_TS = "2024-01-01T00:00:00Z"
ENDED_TS = "2024-06-01T00:00:00Z"
CURSOR_MAGIC = b"\xfb\xff"          # makes every base64 cursor start with "+//"
CONN_ERRORS = (ConnectionError, TimeoutError, ssl.SSLError, OSError)
FAULT_ACTIONS = ("status", "slow", "hang", "garbage", "oversized", "close", "deep",
                 "bloat", "body")

# The three forms of an HTTP-date (RFC 9110, section 5.6.7), always in GMT.
HTTP_DATE_FORMS = {
    "imf": "%a, %d %b %Y %H:%M:%S GMT",
    "rfc850": "%A, %d-%b-%y %H:%M:%S GMT",
    "asctime": "%a %b %e %H:%M:%S %Y",
}


def http_date(t, form="imf"):
    """Unix time t as an HTTP-date (English names, whatever the locale)."""
    tm = time.gmtime(t)
    days = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    fmt = HTTP_DATE_FORMS[form]
    fmt = fmt.replace("%A", days[tm.tm_wday]).replace("%a", days[tm.tm_wday][:3])
    fmt = fmt.replace("%b", months[tm.tm_mon - 1])
    return time.strftime(fmt, tm)


def det_uuid(seed):
    """Deterministic UUID (version-4 layout) from any string."""
    digest = hashlib.sha256(str(seed).encode("utf-8")).digest()[:16]
    return str(uuid.UUID(bytes=digest, version=4))


def rfc3339(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def error_body(detail):
    return {"errors": {"detail": detail}}


def public(row):
    """A stored row as served: no private "_" keys, no keys listed in _omit."""
    omit = set(row.get("_omit") or ())
    return {k: v for k, v in row.items() if not k.startswith("_") and k not in omit}


class FixtureError(ValueError):
    pass


def _user_defaults(u):
    if not isinstance(u, dict) or not isinstance(u.get("id"), str) or "email" not in u:
        raise FixtureError("each user needs string 'id' and 'email': %r" % (u,))
    u = dict(u)
    for k, v in (("status", "active"), ("first_name", None), ("last_name", None),
                 ("deactivated_at", None), ("departments", []), ("teams", []),
                 ("employment_type", None), ("job_title", None), ("location_city", None),
                 ("manager_user_id", None), ("inserted_at", FIXED_TS), ("updated_at", FIXED_TS)):
        u.setdefault(k, v)
    if "full_name" not in u:
        names = [n for n in (u["first_name"], u["last_name"]) if n]
        u["full_name"] = " ".join(names) if names else None
    return u


def _state_defaults(s):
    if not isinstance(s, dict) or not isinstance(s.get("id"), str) or "application_id" not in s:
        raise FixtureError("each access state needs string 'id' and 'application_id': %r" % (s,))
    s = dict(s)
    for k, v in (("grantee_user_id", None), ("effective_start", FIXED_TS), ("effective_end", None),
                 ("resource_id", None), ("target_permission_ids", []), ("group_id", None)):
        s.setdefault(k, v)
    s.setdefault("grantee_user_account_id", det_uuid("account:" + s["id"]))
    return s


def _as_list(x):
    return x if isinstance(x, list) else [x]


def _generate(gen, data):
    for n, spec in enumerate(_as_list(gen.get("users", []))):
        seed = str(spec.get("seed", "gen%d" % n))
        domain = spec.get("email_domain", "example.com")
        for i in range(int(spec["count"])):
            data["users"].append(_user_defaults({
                "id": det_uuid("%s:user:%d" % (seed, i)), "email": "%s-user%d@%s" % (seed, i, domain),
                "first_name": "User%d" % i, "last_name": seed.capitalize(),
                "status": spec.get("status", "active")}))
    for n, spec in enumerate(_as_list(gen.get("access_states", []))):
        seed = str(spec.get("seed", "gen%d" % n))
        count, frac = int(spec["count"]), float(spec.get("ended_fraction", 0))
        users = [u["id"] for u in data["users"]] or [None]
        apps = [a["id"] for a in data["applications"]] or [det_uuid(seed + ":app")]
        for i in range(count):
            grantee = spec.get("grantee_user_id", "*")
            if grantee == "*":
                grantee = users[i % len(users)]
            ended = math.floor((i + 1) * frac) > math.floor(i * frac)
            data["access_states"].append(_state_defaults({
                "id": det_uuid("%s:state:%d" % (seed, i)),
                "application_id": spec.get("application_id") or apps[i % len(apps)],
                "grantee_user_id": grantee,
                "grantee_user_account_id": det_uuid("%s:account:%d" % (seed, i)),
                "effective_end": ENDED_TS if ended else None,
                "resource_id": spec.get("resource_id"),
                "target_permission_ids": [det_uuid("%s:perm:%d" % (seed, i))]}))


def build_fixture(obj, base=None):
    """Normalise a fixture object. With base, only the collections present in
    obj replace those of base (the rest is kept). Returns a new dict."""
    if not isinstance(obj, dict):
        raise FixtureError("fixture must be a JSON object")
    data = {k: list((base or {}).get(k, [])) for k in
            ("users", "access_states", "applications", "access_revocations")}
    for k in data:
        if k in obj:
            if not isinstance(obj[k], list):
                raise FixtureError("%s must be a list" % k)
            data[k] = [dict(r) for r in obj[k]]
    data["users"] = [_user_defaults(u) for u in data["users"]]
    data["access_states"] = [_state_defaults(s) for s in data["access_states"]]
    for a in data["applications"]:
        if not isinstance(a, dict) or not isinstance(a.get("id"), str):
            raise FixtureError("each application needs a string 'id'")
    if "generate" in obj:
        try:
            _generate(obj["generate"], data)
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise FixtureError("bad generate section: %r" % (e,))
    return data


class ApiError(Exception):
    def __init__(self, status, detail, headers=()):
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, list(headers)


def _validate_fault(r):
    if not isinstance(r, dict):
        raise ValueError("rule must be an object")
    r = dict(r)
    r.setdefault("method", "*")
    r.setdefault("path", "/")
    r.setdefault("count", 1)
    r.setdefault("when", "before")
    if not isinstance(r["method"], str) or not isinstance(r["path"], str):
        raise ValueError("method and path must be strings")
    r["method"] = r["method"].upper()
    if r.get("action") not in FAULT_ACTIONS:
        raise ValueError("action must be one of %s" % (FAULT_ACTIONS,))
    if r["when"] not in ("before", "after"):
        raise ValueError("when must be before or after")
    if type(r["count"]) is not int or r["count"] < 1:
        raise ValueError("count must be a positive integer")
    if r["action"] == "status" and not (type(r.get("status")) is int and 100 <= r["status"] <= 599):
        raise ValueError("status action needs an integer status 100..599")
    if r["action"] == "body":
        if "body" not in r:
            raise ValueError("body action needs a body")
        r.setdefault("status", 200)
        if not (type(r["status"]) is int and 100 <= r["status"] <= 599):
            raise ValueError("body action needs an integer status 100..599")
    if "retry_after" in r and not isinstance(r["retry_after"], (int, str)):
        raise ValueError("retry_after must be an integer or a string")
    if "retry_at" in r:
        if "retry_after" in r:
            raise ValueError("give retry_after or retry_at, not both")
        if not isinstance(r["retry_at"], (int, float)) or isinstance(r["retry_at"], bool):
            raise ValueError("retry_at must be a number of seconds")
    if r.setdefault("date_form", "imf") not in HTTP_DATE_FORMS:
        raise ValueError("date_form must be one of %s" % (tuple(HTTP_DATE_FORMS),))
    r.setdefault("seconds", 30 if r["action"] == "hang" else 2)
    r.setdefault("bytes", 50000000)
    r.setdefault("depth", 10000)
    for k in ("seconds", "bytes", "depth"):
        if not isinstance(r[k], (int, float)) or isinstance(r[k], bool) or r[k] < 0:
            raise ValueError("%s must be a non-negative number" % k)
    return r


class Store:
    """All mutable state, guarded by one lock."""

    def __init__(self, fixture, opts):
        self.lock = threading.RLock()
        self.opts = opts
        self.secret = secrets.token_bytes(32)
        self.initial = fixture
        self.reset()

    def reset(self):
        with self.lock:
            self.data = build_fixture(self.initial)
            self.revocations = [dict(r) for r in self.data.pop("access_revocations")]
            self.idem = {}
            self.faults = []
            self.requests = []
            self.rate = {}
            self.clock_offset = 0.0

    def now(self):
        return time.time() + self.clock_offset

    def load(self, obj):
        with self.lock:
            base = dict(self.data, access_revocations=self.revocations)
            data = build_fixture(obj, base)
            self.revocations = data.pop("access_revocations")
            self.data = data

    def find(self, kind, ident):
        rows = self.revocations if kind == "access_revocations" else self.data[kind]
        return next((r for r in rows if r.get("id") == ident), None)

    def take_fault(self, method, path):
        with self.lock:
            for rule in self.faults:
                if rule["method"] in ("*", method) and path.startswith(rule["path"]):
                    rule["count"] -= 1
                    if rule["count"] <= 0:
                        self.faults.remove(rule)
                    return rule
        return None

    def rate_check(self, token):
        """Return None if allowed (and count it), else Retry-After seconds."""
        limit = self.opts.rate_limit
        if limit is None:
            return None
        with self.lock:
            now = self.now()
            window = [t for t in self.rate.get(token, []) if t > now - RATE_WINDOW]
            self.rate[token] = window
            if len(window) >= limit:
                return max(1, math.ceil(window[0] + RATE_WINDOW - now))
            window.append(now)
            return None

    # Cursors: base64(MAGIC + "offset:binding:salt:mac"), HMAC'd with a per-process secret.
    def encode_cursor(self, offset, binding):
        msg = "%d:%s:%s" % (offset, binding, secrets.token_hex(4))
        mac = hmac.new(self.secret, msg.encode(), "sha256").hexdigest()[:16]
        return base64.b64encode(CURSOR_MAGIC + ("%s:%s" % (msg, mac)).encode()).decode()

    def decode_cursor(self, cursor, binding):
        try:
            raw = base64.b64decode(cursor.encode("ascii"), validate=True)
            if not raw.startswith(CURSOR_MAGIC):
                raise ValueError
            offset, bind, salt, mac = raw[len(CURSOR_MAGIC):].decode("ascii").split(":")
            msg = "%s:%s:%s" % (offset, bind, salt)
            good = hmac.new(self.secret, msg.encode(), "sha256").hexdigest()[:16]
            if not hmac.compare_digest(mac, good) or int(offset) < 0:
                raise ValueError
        except (ValueError, UnicodeError):
            raise ApiError(400, "invalid cursor")
        if bind != binding:
            raise ApiError(400, "cursor does not belong to this query")
        return int(offset)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeAccessOwl/1.0"
    sys_version = ""
    timeout = 120                    # idle keep-alive connections are dropped after this

    def log_message(self, fmt, *args):   # silence access and protocol logs
        pass

    def date_time_string(self, timestamp=None):
        """Every answer's Date header: the fake clock, as a server's own."""
        return http_date(self.store.now() if timestamp is None else timestamp)

    def do_GET(self):
        self.rec = None
        try:
            self.dispatch()
        except CONN_ERRORS:
            self.close_connection = True
        except Exception:
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            try:
                self.send_json(500, error_body("internal error in the fake server"))
            except Exception:
                pass

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    @property
    def store(self):
        return self.server.store

    @property
    def opts(self):
        return self.server.opts

    # ---- I/O helpers -------------------------------------------------------
    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(1024)
                try:
                    size = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    raise ApiError(400, "bad chunked encoding")
                if size == 0:
                    while self.rfile.readline(1024).strip():
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_REQUEST_BODY:
                    raise ApiError(413, "request body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        if not length.strip().isdigit():
            raise ApiError(400, "bad Content-Length")
        if int(length) > MAX_REQUEST_BODY:
            raise ApiError(413, "request body too large")
        return self.rfile.read(int(length))

    def send_raw(self, status, body, headers=(), ctype="application/json; charset=utf-8"):
        if self.rec is not None:
            self.rec["status"] = status
        if status < 200 or status in (204, 304):
            body = b""
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status, obj, headers=()):
        self.send_raw(status, json.dumps(obj).encode("utf-8"), headers)

    # ---- dispatch ----------------------------------------------------------
    def dispatch(self):
        parts = urlsplit(self.path)
        path, method = parts.path, self.command
        query = {}
        for k, v in parse_qsl(parts.query, keep_blank_values=True):
            query.setdefault(k, v)
        try:
            body = self.read_body()
        except ApiError as e:
            self.close_connection = True
            body, early = b"", e
        else:
            early = None
        if path == "/_fake" or path.startswith("/_fake/"):
            if early:
                return self.send_json(early.status, error_body(early.detail))
            return self.control(method, path, body)

        headers = {}
        for k, v in self.headers.items():
            k = k.lower()
            headers[k] = headers[k] + ", " + v if k in headers else v
        self.rec = {"method": method, "path": path, "query": query, "raw_query": parts.query,
                    "headers": headers, "body": body.decode("utf-8", "replace"),
                    "status": None, "fault": None, "t": time.time()}
        with self.store.lock:
            self.store.requests.append(self.rec)
        if early:
            return self.send_json(early.status, error_body(early.detail))
        if self.opts.latency:
            self.server.stopping.wait(self.opts.latency)

        fault = self.store.take_fault(method, path)
        # slow and bloat change the normal answer; the others replace it
        shaping = fault and fault["action"] in ("slow", "bloat")
        if fault:
            self.rec["fault"] = fault["action"]
            if fault["when"] == "before" and not shaping:
                return self.apply_fault(fault)
            if fault["when"] == "before" and fault["action"] == "slow":
                self.server.stopping.wait(fault["seconds"])
        try:
            status, obj, extra = self.api(method, path, query, body)
        except ApiError as e:
            status, obj, extra = e.status, error_body(e.detail), e.headers
        if fault and fault["when"] == "after":
            if not shaping:
                return self.apply_fault(fault)
            if fault["action"] == "slow":
                self.server.stopping.wait(fault["seconds"])
        if fault and fault["action"] == "bloat" and isinstance(obj, dict) and \
                isinstance(obj.get("data"), list):
            pad = "x" * int(fault["bytes"])
            obj["data"] = [dict(row, padding=pad) if isinstance(row, dict) else row
                           for row in obj["data"]]
        self.send_json(status, obj, extra)

    def apply_fault(self, f):
        action = f["action"]
        if action == "status":
            extra = []
            if "retry_after" in f:
                extra = [("Retry-After", str(f["retry_after"]))]
            elif "retry_at" in f:
                extra = [("Retry-After", http_date(self.store.now() + f["retry_at"],
                                                   f["date_form"]))]
            self.send_json(f["status"], error_body("injected fault %d" % f["status"]), extra)
        elif action in ("hang", "close"):
            if action == "hang":
                self.server.stopping.wait(f["seconds"])
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        elif action == "garbage":
            self.send_raw(200, b"<html><body><h1>502 Bad Gateway</h1>\x00\xff not json\n")
        elif action == "deep":
            d = int(f["depth"])
            self.send_raw(200, b'{"data":' + b"[" * d + b"]" * d + b"}")
        elif action == "oversized":
            self.stream_oversized(int(f["bytes"]))
        elif action == "body":
            self.send_json(f["status"], f["body"])

    def stream_oversized(self, n):
        prefix = b'{"data":[],"meta":{"limit":20,"next_cursor":null},"padding":"'
        suffix = b'"}'
        if n < len(prefix) + len(suffix):
            prefix, suffix = b" " * n, b""
        self.rec["status"] = 200
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(n))
        self.end_headers()
        try:
            self.wfile.write(prefix)
            left, block = n - len(prefix) - len(suffix), b"x" * 65536
            while left > 0 and not self.server.stopping.is_set():
                self.wfile.write(block[:min(left, len(block))])
                left -= min(left, len(block))
            self.wfile.write(suffix)
        except CONN_ERRORS:
            self.close_connection = True

    # ---- the API -----------------------------------------------------------
    ROUTES = [
        (re.compile(r"^/api/v1/users$"), {"GET": "list_users"}),
        (re.compile(r"^/api/v1/users/([^/]+)$"), {"GET": "get_user"}),
        (re.compile(r"^/api/v1/access_states$"), {"GET": "list_states"}),
        (re.compile(r"^/api/v1/access_revocations$"),
         {"GET": "list_revocations", "POST": "create_revocation"}),
        (re.compile(r"^/api/v1/access_revocations/([^/]+)$"), {"GET": "get_revocation"}),
        (re.compile(r"^/api/v1/applications$"), {"GET": "list_applications"}),
        (re.compile(r"^/api/v1/applications/([^/]+)$"), {"GET": "get_application"}),
    ]

    def api(self, method, path, query, body):
        if not (path == "/api/v1" or path.startswith("/api/v1/")):
            raise ApiError(404, "not found")
        auth = self.headers.get_all("Authorization") or []
        want = b"Bearer " + self.server.token.encode("utf-8")
        if len(auth) != 1 or not hmac.compare_digest(auth[0].encode("latin-1"), want):
            raise ApiError(401, "unauthorized", [("WWW-Authenticate", "Bearer")])
        retry = self.store.rate_check(self.server.token)
        if retry is not None:
            raise ApiError(429, "rate limit exceeded", [("Retry-After", str(retry))])
        for rx, methods in self.ROUTES:
            m = rx.match(path)
            if m:
                if method not in methods:
                    raise ApiError(405, "method not allowed",
                                   [("Allow", ", ".join(sorted(methods)))])
                args = [unquote(a) for a in m.groups()]
                return getattr(self, methods[method])(query, body, *args)
        raise ApiError(404, "not found")

    def single(self, obj, status=200):
        return status, ({"data": obj} if self.opts.envelope == "data" else obj), []

    def paginate(self, rows, query, filters):
        limit = query.get("limit", "20")
        if not re.fullmatch(r"[0-9]{1,6}", limit) or not 1 <= int(limit) <= self.opts.max_limit:
            raise ApiError(400, "limit must be an integer 1..%d" % self.opts.max_limit)
        limit, mode = int(limit), self.opts.meta
        binding = hashlib.sha256(json.dumps(
            [self.rec["path"]] + [query.get(f) for f in filters]).encode()).hexdigest()[:12]
        offset = 0
        if "cursor" in query:
            offset = self.store.decode_cursor(query["cursor"], binding)
        elif mode == "page" and "page" in query:
            if not re.fullmatch(r"[0-9]{1,6}", query["page"]) or int(query["page"]) < 1:
                raise ApiError(400, "page must be a positive integer")
            offset = (int(query["page"]) - 1) * limit
        meta = {}
        if mode in ("cursor", "both"):
            more = offset + limit < len(rows)
            meta["limit"] = limit
            meta["next_cursor"] = self.store.encode_cursor(offset + limit, binding) if more else None
        if mode in ("page", "both"):
            meta.update(page=offset // limit + 1, page_size=limit, total_count=len(rows),
                        total_pages=math.ceil(len(rows) / limit))
        return 200, {"data": rows[offset:offset + limit], "meta": meta}, []

    def list_users(self, query, body):
        with self.store.lock:
            rows = list(self.store.data["users"])
        status = query.get("status")
        if status is None:
            rows = [u for u in rows if u.get("status") == "active"]
        elif status in USER_STATUSES:
            rows = [u for u in rows if u.get("status") == status]
        elif status != "all":
            raise ApiError(400, "invalid status")
        if "email" in query and not self.opts.ignore_email_filter:
            want = query["email"].lower()
            rows = [u for u in rows if str(u.get("email") or "").lower() == want]
        return self.paginate([public(u) for u in rows], query, ("status", "email"))

    def get_user(self, query, body, ident):
        with self.store.lock:
            row = self.store.find("users", ident)
        if row is None:
            raise ApiError(404, "user not found")
        return self.single(public(row))

    def list_states(self, query, body):
        with self.store.lock:
            rows = list(self.store.data["access_states"])
            users = {u["id"]: public(u) for u in self.store.data["users"]}
            apps = {a["id"]: public(a) for a in self.store.data["applications"]}
        if not self.opts.ignore_state_filter:
            for f in ("grantee_user_id", "application_id"):
                if f in query:
                    rows = [s for s in rows if s.get(f) == query[f]]
        expand = set(query.get("expand", "").split(","))
        out = []
        for s in rows:
            s = public(s)
            if "grantee_user" in expand:
                s["grantee_user"] = users.get(s.get("grantee_user_id"))
            if "application" in expand:
                s["application"] = apps.get(s.get("application_id"))
            out.append(s)
        return self.paginate(out, query, ("grantee_user_id", "application_id"))

    def list_revocations(self, query, body):
        if "status" in query and query["status"] not in REVOCATION_STATUSES:
            raise ApiError(400, "invalid status")
        with self.store.lock:
            rows = list(self.store.revocations)
        for param, field in (("status", "status"), ("user_id", "grantee_user_id"),
                             ("application_id", "application_id")):
            if param in query:
                rows = [r for r in rows if r.get(field) == query[param]]
        rows = [{k: r.get(k) for k in REVOCATION_FIELDS} for r in rows]
        return self.paginate(rows, query, ("status", "user_id", "application_id"))

    def get_revocation(self, query, body, ident):
        with self.store.lock:
            row = self.store.find("access_revocations", ident)
        if row is None:
            raise ApiError(404, "access revocation not found")
        out = {k: row.get(k) for k in REVOCATION_FIELDS}
        if "reject_reason" in row:
            out["reject_reason"] = row["reject_reason"]
        return self.single(out)

    def list_applications(self, query, body):
        with self.store.lock:
            rows = [public(a) for a in self.store.data["applications"]]
        return self.paginate(rows, query, ())

    def get_application(self, query, body, ident):
        with self.store.lock:
            row = self.store.find("applications", ident)
        if row is None:
            raise ApiError(404, "application not found")
        return self.single(public(row))

    def create_revocation(self, query, body):
        keys = self.headers.get_all("Idempotency-Key")
        key = None
        if keys is not None:
            key = keys[0]
            if len(keys) != 1 or not 1 <= len(key) <= 255 or \
                    any(not 0x20 <= ord(c) <= 0x7e for c in key):
                raise ApiError(400, "malformed Idempotency-Key")
        raw = body.decode("utf-8", "replace")
        try:
            parsed = json.loads(body.decode("utf-8"))
        except ValueError:
            parsed = None
        store = self.store
        with store.lock:
            now = store.now()
            if key is not None:
                for k in [k for k, v in store.idem.items() if v["t"] <= now - IDEMPOTENCY_TTL]:
                    del store.idem[k]
                prev = store.idem.get(key)
                if prev is not None:
                    same = (prev["parsed"] == parsed) if (prev["parsed"] is not None and
                                                          parsed is not None) else prev["body"] == raw
                    raise ApiError(409 if same else 422, "Idempotency-Key already used" +
                                   ("" if same else " with a different request"))
                store.idem[key] = {"key": key, "body": raw, "parsed": parsed, "t": now}
            if not isinstance(parsed, dict):
                raise ApiError(422, "body must be a JSON object")
            sid, reason = parsed.get("access_state_id"), parsed.get("reason")
            if not isinstance(sid, str) or not isinstance(reason, str):
                raise ApiError(422, "access_state_id and reason are required strings")
            if not reason.strip():
                raise ApiError(422, "reason can't be blank")
            if len(reason) > 255:
                raise ApiError(422, "reason should be at most 255 character(s)")
            state = store.find("access_states", sid)
            if state is None:
                raise ApiError(404, "access state not found")
            app = store.find("applications", state.get("application_id")) or {}
            rev = {"id": str(uuid.uuid4()), "application_id": state.get("application_id"),
                   "reason": reason, "status": "processing_access",
                   "grantee_user_id": state.get("grantee_user_id"), "inserted_at": rfc3339(now),
                   "permission_ids": list(state.get("target_permission_ids") or []),
                   "provisioning_type": app.get("provisioning_type", "application_admin"),
                   "requestor_user_id": None, "resource_id": state.get("resource_id"),
                   "access_state_id": sid, "idempotency_key": key}
            store.revocations.append(rev)
        return self.single({k: rev[k] for k in REVOCATION_FIELDS}, 201)

    # ---- control API -------------------------------------------------------
    def control(self, method, path, body):
        try:
            arg = json.loads(body.decode("utf-8")) if body.strip() else None
        except ValueError:
            return self.send_json(400, error_body("control body must be JSON"))
        m = re.fullmatch(r"/_fake/revocations/([^/]+)", path)
        route = "/_fake/revocations/*" if m else path
        table = {
            "/_fake/faults": ("GET", "POST", "DELETE"), "/_fake/requests": ("GET", "DELETE"),
            "/_fake/state": ("GET",), "/_fake/clock": ("POST",), "/_fake/data": ("POST",),
            "/_fake/reset": ("POST",), "/_fake/revocations/*": ("POST",),
        }
        if route not in table:
            return self.send_json(404, error_body("unknown control endpoint"))
        if method not in table[route]:
            return self.send_json(405, error_body("method not allowed"),
                                  [("Allow", ", ".join(table[route]))])
        with self.store.lock:         # serialise under the lock, send outside it
            status, obj = self.control_locked(method, route, m, arg)
            payload = json.dumps(obj).encode("utf-8")
        self.send_raw(status, payload)

    def control_locked(self, method, route, m, arg):
        store = self.store
        if route == "/_fake/faults" and method == "GET":
            return 200, store.faults
        if route == "/_fake/faults" and method == "POST":
            try:
                rules = [_validate_fault(r) for r in _as_list(arg)]
            except ValueError as e:
                return 400, error_body("bad fault rule: %s" % e)
            store.faults.extend(rules)
            return 200, {"queued": len(store.faults)}
        if method == "DELETE":
            getattr(store, route.rsplit("/", 1)[1]).clear()
            return 200, {"ok": True}
        if route == "/_fake/requests":
            return 200, store.requests
        if route == "/_fake/state":
            keys = [{k: v[k] for k in ("key", "body", "t")} for v in store.idem.values()]
            return 200, {"revocations": store.revocations, "idempotency_keys": keys,
                         "clock_offset": store.clock_offset, "now": rfc3339(store.now())}
        if route == "/_fake/clock":
            adv = arg.get("advance") if isinstance(arg, dict) else None
            if not isinstance(adv, (int, float)) or isinstance(adv, bool) or not math.isfinite(adv):
                return 400, error_body('body must be {"advance": seconds}')
            store.clock_offset += adv
            return 200, {"clock_offset": store.clock_offset, "now": rfc3339(store.now())}
        if route == "/_fake/data":
            try:
                store.load(arg)
            except FixtureError as e:
                return 400, error_body(str(e))
            return 200, {k: len(v) for k, v in store.data.items()}
        if route == "/_fake/reset":
            store.reset()
            return 200, {"ok": True}
        rev = store.find("access_revocations", unquote(m.group(1)))
        status = arg.get("status") if isinstance(arg, dict) else None
        if rev is None:
            return 404, error_body("access revocation not found")
        if status not in REVOCATION_STATUSES:
            return 400, error_body("status must be one of %s" % (REVOCATION_STATUSES,))
        rev["status"] = status
        if status == "rejected" and isinstance(arg.get("reason"), str):
            # what the revocation.rejected webhook calls it
            rev["reject_reason"] = arg["reason"]
        state = store.find("access_states", rev.get("access_state_id"))
        if status == "revoked" and state is not None:
            state["effective_end"] = rfc3339(store.now())
        return 200, rev


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False            # idle keep-alive clients must not delay exit
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, addr, store, opts, token, ssl_ctx):
        if ":" in addr[0]:
            self.address_family = socket.AF_INET6
        self.store, self.opts, self.token, self.ssl_ctx = store, opts, token, ssl_ctx
        self.stopping = threading.Event()
        super().__init__(addr, Handler)

    def server_bind(self):            # skip HTTPServer's getfqdn() (a DNS lookup)
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def finish_request(self, request, client_address):
        """TLS handshake in the worker thread, so a slow client blocks nobody."""
        request.settimeout(10)
        try:                          # headers and body are separate writes: avoid Nagle stalls
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        try:
            conn = self.ssl_ctx.wrap_socket(request, server_side=True)
        except (OSError, ValueError):
            return                    # failed handshakes (wrong CA tests) are normal
        try:
            Handler(conn, client_address, self)
        except CONN_ERRORS:
            pass
        finally:
            conn.close()

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], CONN_ERRORS):
            traceback.print_exc(file=sys.stderr)


def parse_args(argv):
    p = argparse.ArgumentParser(description="Fake AccessOwl API server for tests.")
    p.add_argument("--fixture", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--token-file", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--envelope", choices=("data", "bare"), default="data")
    p.add_argument("--meta", choices=("cursor", "page", "both"), default="cursor")
    p.add_argument("--ignore-email-filter", action="store_true")
    p.add_argument("--ignore-state-filter", action="store_true")
    p.add_argument("--latency", type=float, default=0.0)
    p.add_argument("--rate-limit", type=int, default=None)
    p.add_argument("--max-limit", type=int, default=100)
    return p.parse_args(argv)


def main(argv=None):
    opts = parse_args(argv)
    host = "127.0.0.1" if opts.host == "localhost" else opts.host
    try:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError
    except ValueError:
        print("fake_accessowl: refusing non-loopback --host %r" % opts.host, file=sys.stderr)
        return 2
    try:
        with open(opts.token_file, encoding="utf-8") as f:
            token = f.read().rstrip("\r\n")
        with open(opts.fixture, encoding="utf-8") as f:
            fixture = json.load(f)
        build_fixture(fixture)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(opts.cert, opts.key)
        store = Store(fixture, opts)
        server = FakeServer((host, opts.port), store, opts, token, ctx)
    except (OSError, ValueError, ssl.SSLError) as e:
        print("fake_accessowl: %s" % e, file=sys.stderr)
        return 2
    if not token:
        print("fake_accessowl: empty token file", file=sys.stderr)
        return 2

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    tmp = "%s.tmp.%d" % (opts.port_file, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.replace(tmp, opts.port_file)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        try:
            os.unlink(opts.port_file)
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
