"""The spool: parking, backoff across runs, the 13-day alarm, no stranding."""
import json
import os
import time

from harness import HELPER
from pamwrap import HASH, PamWorld, wait_for
from worlds import filed_for, people, person_states


def status(e):
    p = e.run("status", "--json")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def deleted_and_delivered(fake, env):
    """alice deleted, queued and delivered (by the deliverer enqueue
    starts)."""
    f = fake(people("alice"))
    e = env(f, identity='email_domain = "example.com";')
    p = e.run("enqueue", "--user", "alice", "--event", "deleted")
    assert p.returncode == 0, p.stderr
    assert wait_for(lambda: [x["queue"] for x in status(e)] == ["delivered"],
                    timeout=60)
    return f, e


def queued_file(e):
    [path] = list((e.spool / "queue").glob("*.json"))
    return path


def test_unknown_person_is_parked_with_reason(fake, env):
    f = fake(people("alice"))
    e = env(f, identity='map = ( { user = "ghost"; email = "ghost@example.com"; } );')
    p = e.run("revoke", "--user", "ghost")
    assert p.returncode == 65
    [ev] = status(e)
    assert ev["queue"] == "parked"
    assert "no AccessOwl person has the e-mail address ghost@example.com" \
        in ev["error"]
    text = e.run("status").stdout
    assert "ghost" in text and "parked" in text and "ghost@example.com" in text
    # parked events are not retried by deliver
    n = len(f.requests())
    assert e.run("deliver", "--now").returncode == 0
    assert len(f.requests()) == n


def test_backoff_is_kept_across_runs(fake, env):
    f = fake(people("alice"))
    e = env(f, identity='email_domain = "example.com";')
    port = f.port
    f.stop()
    p = e.run("revoke", "--user", "alice")
    assert p.returncode == 75
    [ev] = status(e)
    assert ev["queue"] == "queued" and ev["attempts"] == 1
    assert ev["next_attempt"] > time.time() + 20  # backed off, not due
    f.start(port=port)
    # a plain run respects the backoff (as after a restart or reboot)...
    assert e.run("deliver").returncode == 0
    assert f.requests() == []
    # ...`--now` overrides it
    assert e.run("deliver", "--now").returncode == 0
    assert len(filed_for(f, "alice")) == 2
    assert status(e)[0]["queue"] == "delivered"


def test_old_event_raises_an_alarm_on_every_run(fake, env):
    f = fake(people("alice"))
    e = env(f, identity='email_domain = "example.com";')
    f.faults([{"method": "*", "path": "/api/v1/", "action": "status",
               "status": 503, "count": 1000}])
    assert e.run("revoke", "--user", "alice").returncode == 75
    path = queued_file(e)
    ev = json.loads(path.read_text())
    ev["created"] -= 14 * 86400
    ev["next_attempt"] = int(time.time()) + 3600  # not due: alarm anyway
    path.write_text(json.dumps(ev))
    for _ in range(2):
        p = e.run("deliver")
        assert "still undelivered after 14 days" in p.stderr
        assert "forgets idempotency keys" in p.stderr
    assert "ALARM" in e.run("status").stdout


def test_damaged_spool_file_is_reported_and_kept(fake, env):
    f = fake(people("alice"))
    e = env(f, identity='email_domain = "example.com";')
    f.stop()
    assert e.run("revoke", "--user", "alice").returncode == 75
    path = queued_file(e)
    path.write_text("{ not json")
    p = e.run("deliver", "--now")
    assert "is damaged" in p.stderr and path.name in p.stderr
    assert path.exists()  # nothing already queued is lost


def test_event_enqueued_during_a_delivery_is_not_stranded(fake, env):
    f = fake(people("alice", "erin"), "--latency", "0.4")
    e = env(f, identity='email_domain = "example.com";')
    w = PamWorld(e)
    w.add_user("alice", "!" + HASH, 2001)
    w.add_user("erin", "!" + HASH, 2005)
    svc = w.service("svc")
    w.pamtester(svc, "alice", "acct_mgmt")     # starts a slow deliverer
    time.sleep(0.6)                            # it holds the lock now
    w.pamtester(svc, "erin", "acct_mgmt")      # its deliverer finds the lock
    assert w.spawn_count() == 2
    # nobody runs deliver by hand: the first deliverer must pick erin up
    assert wait_for(lambda: len(filed_for(f, "erin")) == 2, timeout=30), \
        e.run("status").stdout
    assert len(filed_for(f, "alice")) == 2
    # (the deliverer moves it to done/ a moment after its last answer)
    assert wait_for(lambda: [x["queue"] for x in status(e)] ==
                    ["delivered", "delivered"], timeout=30), status(e)


def test_retry_parked_after_fixing_the_identity(fake, env):
    f = fake(people("alice"))
    e = env(f, identity='map = ( { user = "ghost"; email = "ghost@example.com"; } );')
    assert e.run("revoke", "--user", "ghost").returncode == 65
    assert status(e)[0]["queue"] == "parked"
    # the admin maps the account to the right person, then retries
    text = e.config_path.read_text().replace("ghost@example.com",
                                             "alice@example.com")
    e.config_path.write_text(text)
    p = e.run("deliver", "--retry-parked")
    assert p.returncode == 0, p.stderr
    [ev] = status(e)
    assert ev["queue"] == "delivered" and ev["email"] == "alice@example.com"
    assert len(filed_for(f, "alice")) == 2


def test_retry_parked_gives_a_refused_state_a_new_key(fake, env):
    f = fake(people("alice"))
    e = env(f, identity='email_domain = "example.com";')
    f.faults([{"method": "POST", "path": "/api/v1/access_revocations",
               "action": "status", "status": 422}])
    assert e.run("revoke", "--user", "alice").returncode == 65
    [ev] = status(e)
    assert ev["queue"] == "parked"
    refused = [s for s in ev["states"] if s["status"] == "failed"]
    assert len(refused) == 1
    p = e.run("deliver", "--retry-parked")
    assert p.returncode == 0, p.stderr
    [ev] = status(e)
    assert ev["queue"] == "delivered"
    assert len(filed_for(f, "alice")) == 2      # each state once
    posts = f.posts()
    assert len(posts) == 3                      # the refused one went twice
    sid = refused[0]["id"]
    keys = [p["headers"]["idempotency-key"] for p in posts
            if json.loads(p["body"])["access_state_id"] == sid]
    assert len(keys) == 2 and keys[0] != keys[1]
    assert keys[0] == refused[0]["idempotency_key"]


def test_first_events_at_once_on_a_fresh_host(fake, env):
    """No spool yet, and many events at once (logins, a scan): root makes
    the spool for the service user while others race it; none may find it
    still root's and lose its event."""
    from conftest import need_root
    need_root()
    f = fake(people("alice"))
    for _ in range(3):
        e = env(f, identity='email_domain = "example.com";')
        procs = [e.popen("enqueue", "--user", f"gone{i}", "--event",
                         "deleted") for i in range(16)]
        for p in procs:
            out, err = p.communicate(timeout=60)
            assert p.returncode == 0, err
        assert len(status(e)) == 16


def test_an_event_in_two_queues_is_listed_once(fake, env):
    """An older version's move wrote the new copy before it removed the old
    one: a crash between the two left an event in two queues.  status
    lists it once, as the copy the deliverer acts on."""
    import shutil
    f, e = deleted_and_delivered(fake, env)
    [done] = list((e.spool / "done").glob("*.json"))
    copy = e.spool / "queue" / done.name
    shutil.copy2(done, copy)
    os.chown(copy, done.stat().st_uid, done.stat().st_gid)
    st = status(e)
    assert [x["queue"] for x in st] == ["delivered"], st
    text = e.run("status").stdout
    assert text.count("alice") == 1, text


def test_an_episode_whose_event_was_lost_is_queued_again_once(fake, env):
    """The spool lost and restored from a backup that lacks the event, the
    episode record kept: the event is queued again, with a warning, and
    then once only, however often the episode comes again."""
    f, e = deleted_and_delivered(fake, env)
    p = e.run("enqueue", "--user", "alice", "--event", "deleted")
    assert p.returncode == 0 and p.stderr == "", p.stderr
    for q in ("queue", "parked", "done"):
        for ev in (e.spool / q).glob("*.json"):
            ev.unlink()
    p = e.run("enqueue", "--user", "alice", "--event", "deleted")
    assert p.returncode == 0, p.stderr
    assert "which is in none of queue/, parked/ and done/" in p.stderr
    for _ in range(1000):
        p = e.run("enqueue", "--user", "alice", "--event", "deleted")
        assert p.returncode == 0 and p.stderr == "", p.stderr
    assert wait_for(lambda: [x["queue"] for x in status(e)] == ["delivered"],
                    timeout=60), status(e)
    # filed before: the same keys, refused as duplicates
    assert len(filed_for(f, "alice")) == 2
    assert [p["status"] for p in f.posts()] == [201, 201, 409, 409]


def test_leftover_copies_of_an_interrupted_move_are_settled(fake, env):
    """What an older version left when killed inside `deliver
    --retry-parked`, between writing queue/<ev> (its refused state re-keyed)
    and removing parked/<ev>: the queue copy is the event, the parked one a
    leftover.  The runs after it revoke each state once: the parked copy is
    removed, never re-keyed again, and status shows it queued meanwhile."""
    f = fake(people("alice"))
    e = env(f, identity='email_domain = "example.com";')
    f.faults([{"method": "POST", "path": "/api/v1/access_revocations",
               "action": "status", "status": 422}])
    assert e.run("revoke", "--user", "alice").returncode == 65
    [parked] = list((e.spool / "parked").glob("*.json"))
    ev = json.loads(parked.read_text())
    for s in ev["states"]:
        if s["status"] == "failed":
            s["status"], s["idempotency_key"] = "pending", s["idempotency_key"] + "-x"
    copy = e.spool / "queue" / parked.name
    copy.write_text(json.dumps(ev))
    os.chown(copy, parked.stat().st_uid, parked.stat().st_gid)
    assert [x["queue"] for x in status(e)] == ["queued"]
    p = e.run("deliver", "--retry-parked")
    assert p.returncode == 0, p.stderr
    assert "was a leftover copy of the event in queue/" in p.stderr
    assert "parked/" + parked.name in p.stderr
    for args in (("deliver", "--now"), ("deliver", "--retry-parked")):
        assert e.run(*args).returncode == 0
    assert [x["queue"] for x in status(e)] == ["delivered"]
    assert sorted(r["access_state_id"] for r in filed_for(f, "alice")) == \
        sorted(person_states("alice"))
    assert list((e.spool / "parked").glob("*.json")) == []
