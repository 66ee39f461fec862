"""kill -9 at random moments: nothing lost, nothing filed twice."""
import collections
import json
import os
import random
import signal
import subprocess
import time

from conftest import HELPER
from worlds import people, person_states

STATES = 6


def helper(e, *args, **kw):
    return subprocess.run([HELPER, "-c", str(e.config_path)] + list(args),
                          capture_output=True, text=True, timeout=180, **kw)


def test_fifty_kill9_trials_file_each_state_exactly_once(fake, env):
    f = fake(people("zed", active=STATES), "--latency", "0.06")
    e = env(f, identity='email_domain = "example.com";')
    rnd = random.Random(20261127)
    killed_mid_run = 0
    for trial in range(50):
        # an app owner turns down what is pending, so that every manual
        # revoke has states to file (a pending revocation is not filed
        # again)
        for r in f.revocations():
            if r["status"] == "processing_access":
                f.control("POST", f"/_fake/revocations/{r['id']}",
                          {"status": "rejected"})
        # half the trials kill `revoke` (queue + deliver now), the other
        # half kill a `deliver` working through what earlier trials left
        args = ("revoke", "--user", "zed") if trial % 2 == 0 else \
            ("deliver", "--now")
        p = subprocess.Popen([HELPER, "-c", str(e.config_path)] + list(args),
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(rnd.uniform(0.0, 0.45))
        if p.poll() is None:
            killed_mid_run += 1
        p.send_signal(signal.SIGKILL)
        p.wait()
    assert killed_mid_run >= 25  # the kills really landed mid-run
    # recovery: what the deliver timer does
    for _ in range(10):
        helper(e, "deliver", "--now")
        status = json.loads(helper(e, "status", "--json").stdout)
        if all(x["queue"] == "delivered" for x in status):
            break
    assert status and all(x["queue"] == "delivered" for x in status), status
    revs = f.revocations()
    by_key = collections.Counter(r["idempotency_key"] for r in revs)
    assert all(n == 1 for n in by_key.values()), \
        [k for k, n in by_key.items() if n > 1]
    # every event that reached the spool filed each state exactly once,
    # but for those a pending revocation covered when it was listed
    filed = [s for x in status for s in x["states"]
             if s["status"] != "covered"]
    covered = [s for x in status for s in x["states"]
               if s["status"] == "covered"]
    assert all(len(x["states"]) == STATES for x in status)
    assert set(by_key) == {s["idempotency_key"] for s in filed}
    assert len(revs) == len(filed)
    ids = {r["id"] for r in revs}
    assert all(s["revocation_id"] in ids for s in covered)
    # and AccessOwl refused the replays of lost answers as duplicates
    posts = f.posts()
    assert len(posts) >= len(revs)
    assert {p["status"] for p in posts} <= {201, 409, None}


def metrics(e):
    """status --prometheus as {name{labels}: value}."""
    p = helper(e, "status", "--prometheus")
    assert p.returncode == 0, p.stderr
    return {k: float(v) for k, v in (l.rsplit(" ", 1) for l in
            p.stdout.splitlines() if l and not l.startswith("#"))}


def killed_at(e, call, n, *args):
    """Run the helper with SIGKILL at entry to its n-th `call` (strace):
    the call is not made, nothing after it happens."""
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")  # no LSan in ptrace
    return subprocess.run(["strace", "-f", "-qq", "-o", "/dev/null", "-e",
                           f"inject={call}:signal=KILL:when={n}", HELPER,
                           "-c", str(e.config_path)] + list(args),
                          capture_output=True, text=True, timeout=180,
                          env=env)


# the steps of `deliver --retry-parked` that change the spool: the re-keyed
# event written where it is, its move to queue/, the delivery's progress,
# the follow record, the move to done/, and the syncs between them; and
# the unlinks an older version's move made
RETRY_CRASH_POINTS = [("renameat", n) for n in range(1, 7)] + \
    [("fsync", n) for n in range(1, 7)] + [("unlinkat", n) for n in (1, 2)]


def test_retry_parked_killed_at_every_step_files_each_state_once(fake, env):
    """deliver --retry-parked gives a refused state a new key and moves the
    event back to queue/.  Killed at any step (an older version wrote the
    queue/ copy before it removed the parked/ one, and a later retry
    re-keyed that copy again: two revocations), the runs after it (the
    timer's deliver, the administrator's retry) revoke every state once,
    and status, the metrics and the spool agree."""
    from rootenv import require
    require("strace")
    names = [f"crash{i}" for i in range(len(RETRY_CRASH_POINTS))]
    f = fake(people(*names, active=2))
    failed, kills = [], 0
    for (call, n), name in zip(RETRY_CRASH_POINTS, names):
        e = env(f, identity='email_domain = "example.com";')
        f.faults([{"method": "POST", "path": "/api/v1/access_revocations",
                   "action": "status", "status": 422}])
        assert helper(e, "revoke", "--user", name).returncode == 65
        [ev] = json.loads(helper(e, "status", "--json").stdout)
        assert ev["queue"] == "parked"
        p = killed_at(e, call, n, "deliver", "--retry-parked")
        killed = p.returncode != 0
        kills += killed and call != "unlinkat"
        # recovery: the timer, then the administrator tries again
        for args in (("deliver", "--now"), ("deliver", "--retry-parked"),
                     ("deliver", "--now")):
            helper(e, *args)
        mine = set(person_states(name, 2))
        revs = collections.Counter(r["access_state_id"] for r in
                                   f.revocations()
                                   if r["access_state_id"] in mine)
        status = json.loads(helper(e, "status", "--json").stdout)
        m = metrics(e)
        # (a killed writer's temporary file stays until it is an hour old)
        left = sorted(x.name for d in ("queue", "parked")
                      for x in (e.spool / d).glob("*.json"))
        outcome = (dict(revs), [x["queue"] for x in status],
                   m['accessowl_events{queue="parked"}'],
                   m['accessowl_events{queue="queued"}'],
                   m['accessowl_events{queue="delivered"}'], left)
        if outcome != ({s: 1 for s in mine}, ["delivered"], 0, 0, 1, []):
            failed.append((call, n, killed, outcome))
    assert not failed, failed
    assert kills == 12  # each kill but the unlinks landed in the run
