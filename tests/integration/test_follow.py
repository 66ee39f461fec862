"""Each revocation this host filed is followed to its end (revoked or
rejected) within a budget, and the spool is shown to monitoring
(`status --prometheus`)."""
import json
import os
import re
import subprocess

from harness import HELPER
from pamwrap import LIBDIR, asan_runtime, wait_for
from worlds import people

STATES = 3


def status(e):
    p = e.run("status", "--json")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def at(e, offset, *args):
    """The helper with its clock moved by offset ("+660" seconds, "+1d"):
    libfaketime, after the ASan runtime when there is one."""
    libs = asan_runtime() + [LIBDIR / "faketime" / "libfaketime.so.1"]
    env = dict(os.environ, LD_PRELOAD=" ".join(map(str, libs)),
               FAKETIME=offset, FAKETIME_DONT_RESET="1")
    return subprocess.run([HELPER, "-c", str(e.config_path)] + list(args),
                          capture_output=True, text=True, timeout=120,
                          env=env)


def polls(f):
    return [r for r in f.requests() if r["method"] == "GET" and
            r["path"].startswith("/api/v1/access_revocations/")]


def settle(f, rid, status, reason=None):
    body = {"status": status}
    if reason:
        body["reason"] = reason
    f.control("POST", "/_fake/revocations/" + rid, body)


def filed(f, e):
    """alice deleted and delivered: STATES revocations processing."""
    p = e.run("enqueue", "--user", "alice", "--event", "deleted")
    assert p.returncode == 0, p.stderr
    assert wait_for(lambda: [x["queue"] for x in status(e)] == ["delivered"],
                    timeout=60)
    revs = f.revocations()
    assert len(revs) == STATES
    f.control("DELETE", "/_fake/requests")
    return [r["id"] for r in revs]


def test_followed_to_revoked_or_rejected_then_never_again(fake, env):
    f = fake(people("alice", active=STATES))
    e = env(f, identity='email_domain = "example.com";')
    r0, r1, r2 = filed(f, e)
    # --now: each pending revocation once
    assert e.run("deliver", "--now").returncode == 0
    assert sorted(p["path"].rsplit("/", 1)[1] for p in polls(f)) == \
        sorted([r0, r1, r2])
    settle(f, r0, "revoked")
    settle(f, r1, "rejected", "the owner says: still on call")
    f.control("DELETE", "/_fake/requests")
    p = e.run("deliver", "--now")
    assert len(polls(f)) == 3
    # a rejection is an error in the log, with the reason
    assert "REJECTED the revocation" in p.stderr, p.stderr
    assert "the owner says: still on call" in p.stderr
    [ev] = status(e)
    by_id = {s["revocation_id"]: s for s in ev["states"]}
    assert by_id[r0]["revocation_status"] == "revoked"
    assert by_id[r1]["revocation_status"] == "rejected"
    assert by_id[r1]["revocation_reason"] == "the owner says: still on call"
    assert by_id[r2]["revocation_status"] == "processing_access"
    text = e.run("status").stdout
    assert "[1 REJECTED by AccessOwl]" in text, text
    assert re.search(r"Wiki +filed +revocation %s rejected: the owner says"
                     % r1, text), text
    assert re.search(r"revocation %s processing_access \(asked 2 times"
                     % r2, text), text
    # settled ones are never asked again
    f.control("DELETE", "/_fake/requests")
    e.run("deliver", "--now")
    assert [p["path"].rsplit("/", 1)[1] for p in polls(f)] == [r2]
    settle(f, r2, "revoked")
    e.run("deliver", "--now")
    f.control("DELETE", "/_fake/requests")
    for _ in range(3):
        assert e.run("deliver", "--now").returncode == 0
    assert f.requests() == []
    assert not any((e.state / "follow").iterdir())


def test_polling_backs_off_and_asks_once_a_run(fake, env):
    f = fake(people("alice", active=STATES))
    e = env(f, identity='email_domain = "example.com";')
    filed(f, e)
    # (run, the clock moved by, polls it may send): first after 10 min,
    # then 20, 40, ... at most a day apart; never twice in one window
    for offset, want in (("+0", 0), ("+300", 0), ("+660", 3), ("+700", 0),
                         ("+1800", 0), ("+1900", 3), ("+1950", 0),
                         ("+4300", 3), ("+4400", 0), ("+1d", 3),
                         ("+1d", 0)):
        f.control("DELETE", "/_fake/requests")
        p = at(e, offset, "deliver")
        assert p.returncode == 0, p.stderr
        assert len(polls(f)) == want, (offset, f.requests())
        assert len(f.requests()) == want    # nothing else either
    [ev] = status(e)
    assert all(s["checks"] == 4 for s in ev["states"])


def test_a_fleet_follows_each_revocation_once(fake, env):
    """Only the host that filed a revocation follows it: the others found
    it filed (409 or pending) and ask nothing."""
    f = fake(people("alice", active=STATES))
    hosts = [env(f, identity='email_domain = "example.com";')
             for _ in range(5)]
    for h in hosts:
        p = h.run("enqueue", "--user", "alice", "--event", "deleted")
        assert p.returncode == 0, p.stderr
        assert wait_for(lambda: [x["queue"] for x in status(h)] ==
                        ["delivered"], timeout=60)
    f.control("DELETE", "/_fake/requests")
    for h in hosts:
        assert h.run("deliver", "--now").returncode == 0
    assert len(polls(f)) == STATES


def metrics(text):
    got = {}
    for line in text.splitlines():
        if line.startswith("#"):
            assert re.fullmatch(r"# (HELP|TYPE) accessowl_\w+ .+", line), line
            continue
        m = re.fullmatch(r'(accessowl_\w+(?:\{\w+="[\w]+"\})?) (\d+)', line)
        assert m, line
        got[m.group(1)] = int(m.group(2))
    return got


def test_prometheus_metrics(fake, env):
    f = fake(people("alice", "bob", active=STATES))
    e = env(f, identity='email_domain = "example.com";')
    empty = metrics(e.run("status", "--prometheus").stdout)
    assert empty['accessowl_events{queue="queued"}'] == 0
    assert empty["accessowl_api_requests_total"] == 0
    p = e.run("enqueue", "--user", "alice", "--event", "deleted")
    assert p.returncode == 0, p.stderr
    assert wait_for(lambda: [x["queue"] for x in status(e)] == ["delivered"],
                    timeout=60)
    r0, r1, r2 = [r["id"] for r in f.revocations()]
    settle(f, r0, "revoked")
    settle(f, r1, "rejected", "no")
    e.run("deliver", "--now")
    f.faults([{"action": "status", "status": 503, "count": 100}])
    p = e.run("enqueue", "--user", "bob", "--event", "deleted")
    assert p.returncode == 0
    assert wait_for(lambda: status(e)[-1]["attempts"] >= 1, timeout=60)
    m = metrics(e.run("status", "--prometheus").stdout)
    assert m['accessowl_events{queue="queued"}'] == 1
    assert m['accessowl_events{queue="delivered"}'] == 1
    assert m['accessowl_events{queue="parked"}'] == 0
    assert 0 <= m["accessowl_oldest_queued_age_seconds"] < 120
    assert m['accessowl_revocations{status="processing_access"}'] == 1
    assert m['accessowl_revocations{status="revoked"}'] == 1
    assert m['accessowl_revocations{status="rejected"}'] == 1
    assert m["accessowl_last_delivery_timestamp_seconds"] > 0
    # every request this host sent, counted once, across runs (the last
    # run adds its count as it ends)
    assert wait_for(lambda: metrics(e.run("status", "--prometheus").stdout)
                    ["accessowl_api_requests_total"] == len(f.requests()))
    assert m["accessowl_api_rate_limited_total"] == 0
    # --output replaces the file atomically, leaving nothing else
    out = e.tmp / "textfile"
    out.mkdir()
    p = e.run("status", "--prometheus", "--output", str(out / "ao.prom"))
    assert p.returncode == 0, p.stderr
    assert [x.name for x in out.iterdir()] == ["ao.prom"]
    # for node_exporter's user, whatever the helper's umask (077)
    assert (out / "ao.prom").stat().st_mode & 0o777 == 0o644
    # the same metrics, but for an age that may have ticked a second on
    saved = metrics((out / "ao.prom").read_text())
    again = metrics(e.run("status", "--prometheus").stdout)
    age = "accessowl_oldest_queued_age_seconds"
    assert 0 <= again.pop(age) - saved.pop(age) <= 2
    assert saved == again


def test_output_follows_no_link_another_user_planted(fake, env):
    """Root writes the metrics from cron into node_exporter's directory,
    which is often another user's: a link planted there must not send the
    file elsewhere."""
    if os.geteuid() != 0:
        import pytest
        pytest.skip("needs root")
    f = fake(people("alice"))
    e = env(f, identity='email_domain = "example.com";')
    theirs, elsewhere = e.tmp / "theirs", e.tmp / "elsewhere"
    theirs.mkdir()
    elsewhere.mkdir()
    os.chown(theirs, 65534, 65534)
    os.symlink(elsewhere, theirs / "textfile")
    p = e.run("status", "--prometheus", "--output",
              str(theirs / "textfile" / "ao.prom"))
    assert p.returncode == 78, p.stderr
    assert "is a symbolic link" in p.stderr, p.stderr
    assert list(elsewhere.iterdir()) == []
    # the same directory, for real, is fine
    (theirs / "textfile").unlink()
    (theirs / "textfile").mkdir()
    p = e.run("status", "--prometheus", "--output",
              str(theirs / "textfile" / "ao.prom"))
    assert p.returncode == 0, p.stderr
    assert (theirs / "textfile" / "ao.prom").stat().st_mode & 0o777 == 0o644


def test_429_is_counted(fake, env):
    f = fake(people("alice"))
    e = env(f, identity='email_domain = "example.com";')
    f.faults([{"action": "status", "status": 429, "retry_after": 1800,
               "count": 1}])
    e.run("enqueue", "--user", "alice", "--event", "deleted")
    assert wait_for(lambda: status(e)[0]["attempts"] >= 1, timeout=60)
    assert wait_for(lambda: metrics(e.run("status", "--prometheus").stdout)
                    ["accessowl_api_rate_limited_total"] == 1)
    m = metrics(e.run("status", "--prometheus").stdout)
    assert m["accessowl_rate_limit_hold_until_timestamp_seconds"] > 0


def test_delivered_events_are_forgotten_once_old_and_settled(fake, env):
    """paths.keep_delivered_days: a delivered event leaves the spool once
    it is that old and nothing of it is still followed.  (One day here:
    the test CA's certificates are valid for two.)"""
    f = fake(people("alice", active=STATES))
    e = env(f, identity='email_domain = "example.com";',
            paths="keep_delivered_days = 1;")
    r0, r1, r2 = filed(f, e)
    done = e.spool / "done"
    assert len(list(done.glob("*.json"))) == 1
    # 30 hours on, two revocations still processing: kept
    settle(f, r0, "revoked")
    p = at(e, "+30h", "deliver")
    assert p.returncode == 0, p.stderr
    [ev] = status(e)
    assert any((e.state / "follow").iterdir())
    # all settled, but only 12 hours on: kept
    settle(f, r1, "revoked")
    settle(f, r2, "revoked")
    p = at(e, "+12h", "deliver", "--now")
    assert p.returncode == 0, p.stderr
    assert not any((e.state / "follow").iterdir())
    [ev] = status(e)
    assert all(s["revocation_status"] == "revoked" for s in ev["states"])
    # settled and 30 hours old: forgotten, and said so
    p = at(e, "+30h", "-v", "deliver")
    assert p.returncode == 0, p.stderr
    assert "forgot 1 delivered events (older than paths.keep_delivered_" \
        "days = 1)" in p.stderr, p.stderr
    assert status(e) == []
    assert list(done.glob("*.json")) == []


def test_a_covered_event_shows_what_its_revocation_became(fake, env):
    """A second event for the same person is covered by the first one's
    revocations, which only the first follows: once one is rejected,
    status shows it rejected under both events, not processing_access."""
    f = fake(people("alice", active=STATES))
    e = env(f, identity='email_domain = "example.com"; map = ( '
            '{ user = "alice2"; email = "alice@example.com"; } );')
    r0, r1, r2 = filed(f, e)
    p = e.run("enqueue", "--user", "alice2", "--event", "deleted")
    assert p.returncode == 0, p.stderr
    assert wait_for(lambda: [x["queue"] for x in status(e)] ==
                    ["delivered", "delivered"], timeout=60), status(e)
    second = [x for x in status(e) if x["user"] == "alice2"][0]
    assert all(s["status"] == "covered" for s in second["states"]), \
        second["states"]
    settle(f, r1, "rejected", "kept on purpose")
    assert e.run("deliver", "--now").returncode == 0
    text = e.run("status").stdout
    assert text.count("[1 REJECTED by AccessOwl]") == 2, text
    assert len(re.findall(r"already pending +revocation %s rejected" % r1,
                          text)) == 1, text
    assert "processing_access" not in [
        l for l in text.splitlines() if r1 in l][0]
