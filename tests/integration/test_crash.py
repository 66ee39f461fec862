"""kill -9 at random moments: nothing lost, nothing filed twice."""
import collections
import json
import random
import signal
import subprocess
import time

from conftest import HELPER
from worlds import people

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
