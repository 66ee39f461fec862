"""Server errors, rate limits, lost answers, hangs: every state filed once."""
import json
import time

from conftest import check_failures, lines
from test_revoke import ACTIVE, start


def by_state(posts):
    out = {}
    for p in posts:
        out.setdefault(json.loads(p["body"])["access_state_id"], []).append(p)
    return out


def test_5xx_429_and_lost_answers_file_each_state_once(fake, env):
    f, e = start(fake, env)
    f.faults([
        {"method": "GET", "path": "/api/v1/users", "action": "status",
         "status": 500},
        {"method": "GET", "path": "/api/v1/access_states", "action": "status",
         "status": 503},
        {"method": "POST", "path": "/api/v1/access_revocations",
         "action": "status", "status": 503, "count": 2},
        {"method": "POST", "path": "/api/v1/access_revocations",
         "action": "status", "status": 429, "retry_after": 1},
        # filed at AccessOwl, but the answer is lost: the retry must reuse
        # the key and get 409, never a second revocation
        {"method": "POST", "path": "/api/v1/access_revocations",
         "action": "status", "status": 502, "when": "after"},
        {"method": "POST", "path": "/api/v1/access_revocations",
         "action": "close", "when": "after"},
    ])
    p = e.run("revoke", "--user", "alice")
    assert p.returncode == 0, p.stdout + p.stderr
    revs = f.revocations()
    assert sorted(r["access_state_id"] for r in revs) == sorted(ACTIVE)
    groups = by_state(f.posts())
    assert sorted(groups) == sorted(ACTIVE)
    statuses = []
    for state, posts in groups.items():
        keys = {x["headers"]["idempotency-key"] for x in posts}
        assert len(keys) == 1, f"state {state} was sent with keys {keys}"
        assert len({x["body"] for x in posts}) == 1
        statuses += [x["status"] for x in posts]
    # the faults were met: two 503s, a 429, a 502 and a dropped connection,
    # and the lost answers were resent and refused as duplicates
    assert statuses.count(503) == 2 and 429 in statuses
    assert 502 in statuses and None in statuses
    assert 409 in statuses
    out = lines(p.stdout)
    assert len(out) == 3
    assert sum(l.startswith("filed earlier\t") for l in out) >= 1
    assert all(l.startswith(("filed\t", "filed earlier\t")) for l in out)


def test_hang_is_cut_by_timeout_and_retried(fake, env):
    f, e = start(fake, env, timeout=2)
    f.faults([{"method": "POST", "path": "/api/v1/access_revocations",
               "action": "hang", "seconds": 30}])
    p = e.run("revoke", "--user", "alice", timeout=60)
    assert p.returncode == 0, p.stderr
    assert sorted(r["access_state_id"] for r in f.revocations()) == sorted(ACTIVE)


def test_server_down_is_try_later_and_nothing_half_filed(fake, env):
    f, e = start(fake, env)
    f.faults([{"method": "POST", "path": "/api/v1/access_revocations",
               "action": "status", "status": 503, "count": 100}])
    p = e.run("revoke", "--user", "alice", timeout=120)
    assert p.returncode == 75
    assert f.revocations() == []
    out = lines(p.stdout)
    # every state is accounted for: one failed, the rest not sent
    assert len(out) == 3
    assert out[0].startswith("failed\t")
    assert all(l.startswith("not sent\t") for l in out[1:])
    assert "unavailable" in p.stderr


def test_rejected_state_is_reported_and_others_filed(fake, env):
    f, e = start(fake, env)
    f.faults([{"method": "POST", "path": "/api/v1/access_revocations",
               "action": "status", "status": 422}])
    p = e.run("revoke", "--user", "alice")
    assert p.returncode == 65
    assert len(f.revocations()) == 2
    out = lines(p.stdout)
    assert sum(l.startswith("failed\t") for l in out) == 1
    assert sum(l.startswith("filed\t") for l in out) == 2
    assert "HTTP 422" in p.stderr
    assert len([x for x in f.posts() if x["status"] == 422]) == 1  # not hammered


def test_long_retry_after_is_try_later(fake, env):
    f, e = start(fake, env)
    f.faults([{"method": "GET", "path": "/api/v1/users", "action": "status",
               "status": 429, "retry_after": 3600}])
    p = e.run("revoke", "--user", "alice")
    assert p.returncode == 75
    assert "rate limited" in p.stderr
    assert f.posts() == []
    assert len(f.requests()) == 1  # it did not hammer


def test_garbage_oversized_and_deep_responses(fake, env):
    for rule in ({"action": "garbage"},
                 {"action": "oversized", "bytes": 50_000_000},
                 {"action": "deep", "depth": 10000}):
        f, e = start(fake, env)
        f.faults([dict(rule, method="GET", path="/api/v1/access_states")])
        p = e.run("revoke", "--user", "alice")
        assert p.returncode == 65, (rule, p.stderr)
        assert f.posts() == []
        assert len(lines(p.stderr)) == 1, p.stderr
        f.stop()


def hold_left(e):
    """Seconds the host's 429 hold still has to run (0: none)."""
    from test_follow import metrics
    p = e.run("status", "--prometheus")
    assert p.returncode == 0, p.stderr
    until = metrics(p.stdout)["accessowl_rate_limit_hold_until_timestamp_seconds"]
    return max(0, until - time.time())


def test_a_retry_after_date_is_read_on_the_servers_clock(fake, env):
    """An HTTP-date in any of its three forms asks for the wait between the
    server's Date and it: here an hour, although the server's clock is a
    day ahead of ours; longer than the helper sleeps, so the host holds."""
    f, e = start(fake, env)
    f.control("POST", "/_fake/clock", {"advance": 86400})
    for form in ("imf", "rfc850", "asctime"):
        f.control("DELETE", "/_fake/requests")
        (e.spool / ".hold").unlink(missing_ok=True)
        f.faults([{"method": "GET", "path": "/api/v1/users", "action": "status",
                   "status": 429, "retry_at": 3600, "date_form": form}])
        p = e.run("revoke", "--user", "alice")
        assert p.returncode == 75, (form, p.stderr)
        assert len(f.requests()) == 1, form          # no hammering
        assert 3500 < hold_left(e) <= 3602, form    # not a day and an hour
        assert "neither seconds nor an HTTP date" not in p.stderr
    assert f.posts() == []


def test_a_huge_retry_after_holds_the_host_for_a_day(fake, env):
    f, e = start(fake, env)
    f.faults([{"method": "GET", "path": "/api/v1/users", "action": "status",
               "status": 429, "retry_after": 10 ** 15}])
    p = e.run("revoke", "--user", "alice")
    assert p.returncode == 75, p.stderr
    assert len(f.requests()) == 1
    assert "longest wait accepted, 86400 s" in p.stderr
    assert 86300 < hold_left(e) <= 86402
    # nothing leaves the host before then, not even by hand
    for args in (("deliver", "--now"), ("revoke", "--user", "alice")):
        p = e.run(*args)
        assert p.returncode == 75, (args, p.stderr)
        assert "asked this host to wait" in p.stderr
    assert len(f.requests()) == 1


def test_retry_after_zero_is_no_tight_loop(fake, env):
    """0 (or a date gone by) still waits a second between two tries, and
    five waits at most."""
    f, e = start(fake, env)
    f.faults([{"method": "GET", "path": "/api/v1/users", "action": "status",
               "status": 429, "retry_after": 0, "count": 10}])
    p = e.run("revoke", "--user", "alice")
    assert p.returncode == 75, p.stderr
    reqs = f.requests()
    assert [r["status"] for r in reqs] == [429] * 6
    gaps = [b["t"] - a["t"] for a, b in zip(reqs, reqs[1:])]
    assert min(gaps) >= 0.99, gaps


def test_a_garbage_retry_after_is_warned_about_once(fake, env):
    """`check` makes one request and never waits: a Retry-After that is
    neither seconds nor a date is named (sanitised) and replaced by the
    default."""
    f, e = start(fake, env)
    f.faults([{"method": "GET", "path": "/api/v1/users", "action": "status",
               "status": 429, "retry_after": "soon\x1b[2J"}])
    p = e.run("check")
    assert p.returncode != 0, p.stdout + p.stderr
    [api] = check_failures(p)
    assert api.startswith("FAILED: AccessOwl API at"), api
    warned = [l for l in lines(p.stderr)
              if "neither seconds nor an HTTP date" in l]
    assert len(warned) == 1, p.stderr
    assert '"soon?[2J"' in warned[0] and "waiting 30 s" in warned[0]
    assert "\x1b" not in p.stderr
    assert len(f.requests()) == 1


def test_a_huge_application_title_leaves_the_event_readable(fake, env):
    """A 4.5 MiB application title (AccessOwl's data, or a hostile server)
    was written into the event; after one 503 the event could not be read
    back, and every run called it damaged.  The title is kept short."""
    from harness import uuid
    user, app, state = uuid("big-u"), uuid("big-app"), uuid("big-s")
    f = fake({"users": [{"id": user, "email": "alice@example.com",
                         "status": "active"}],
              "applications": [{"id": app, "title": "T" * (4608 << 10)}],
              "access_states": [{"id": state, "application_id": app,
                                 "grantee_user_id": user,
                                 "effective_end": None}]})
    e = env(f, identity='email_domain = "example.com";')
    f.faults([{"method": "POST", "path": "/api/v1/access_revocations",
               "action": "status", "status": 503, "count": 5}])
    p = e.run("revoke", "--user", "alice")
    assert p.returncode == 75, p.stderr
    p = e.run("deliver", "--now")
    assert p.returncode == 0, p.stderr
    assert "damaged" not in p.stderr
    assert [r["access_state_id"] for r in f.revocations()] == [state]
    [ev] = json.loads(e.run("status", "--json").stdout)
    assert ev["queue"] == "delivered"
    assert len(ev["states"][0]["application_title"]) == 200
