"""A fleet locks the same person: AccessOwl gets one revocation per access
state, not one per host.

A host here is what pam_accessowl keeps per machine: its own config, spool
and state directory, all sharing the organization's one token and the one
fake AccessOwl, which behaves like the worst plausible real server: a
second POST for a state with a pending revocation creates another one.
Each host's event is queued by `enqueue` (a deletion: the account does not
exist here) and delivered by the deliverer it starts, all at once.
"""
import collections
import json
import time

from harness import uuid
from pamwrap import wait_for
from worlds import FLEET_REASON, people, person_states

STATES = 3


def make_hosts(env, f, n, spread=0):
    return [env(f, identity='email_domain = "example.com";', spread=spread)
            for _ in range(n)]


def status(h):
    p = h.run("status", "--json")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def delivered(hosts):
    return all(st and all(x["queue"] == "delivered" for x in st)
               for st in map(status, hosts))


def deprovision(hosts, user="alice"):
    """Every host sees the account go at the same moment."""
    procs = [h.popen("enqueue", "--user", user, "--event", "deleted")
             for h in hosts]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err


def one_per_state(f, name="alice"):
    revs = [r for r in f.revocations()
            if r["access_state_id"] in person_states(name, STATES)]
    return collections.Counter(r["access_state_id"] for r in revs)


def with_permissions(world):
    """Each state holds a permission of its own, as real ones do: what a
    revocation, which names no state, is matched on."""
    for s in world["access_states"]:
        s["target_permission_ids"] = [uuid("perm-" + s["id"])]
    return world


def test_twenty_hosts_at_once_file_one_revocation_per_state(fake, env):
    f = fake(with_permissions(people("alice", active=STATES)))
    hosts = make_hosts(env, f, 20, spread=2)
    deprovision(hosts)
    assert wait_for(lambda: delivered(hosts), timeout=90)
    per_state = one_per_state(f)
    assert sorted(per_state) == sorted(person_states("alice", STATES))
    assert set(per_state.values()) == {1}, per_state
    # every POST carried the fleet-wide key and body of its state
    for p in f.posts():
        body = json.loads(p["body"])
        assert p["headers"]["idempotency-key"] == "ao2-" + body["access_state_id"]
        assert body["reason"] == FLEET_REASON
        assert p["status"] in (201, 409)
    for h in hosts:
        [ev] = status(h)
        assert {s["status"] for s in ev["states"]} <= \
            {"filed", "filed earlier", "covered"}
    # the budget: far from a request per host and state, twice
    assert len(f.requests()) <= 20 * (3 + STATES)

    # a host that comes later finds the work done: three requests at most
    f.control("DELETE", "/_fake/requests")
    [late] = make_hosts(env, f, 1)
    deprovision([late])
    assert wait_for(lambda: delivered([late]))
    assert len(f.requests()) <= 3, [r["path"] for r in f.requests()]
    assert f.posts() == []
    [ev] = status(late)
    assert {s["status"] for s in ev["states"]} == {"covered"}


def test_a_revocation_a_person_filed_is_not_filed_again(fake, env):
    world = with_permissions(people("alice", active=STATES))
    sid = person_states("alice", STATES)[0]
    world["access_revocations"] = [{
        "id": uuid("by-hand"), "application_id": world["access_states"][0]
        ["application_id"], "status": "processing_access",
        "grantee_user_id": uuid("person-alice"), "resource_id": None,
        "permission_ids": [uuid("perm-" + sid)],
        "reason": "offboarding, by hand"}]
    f = fake(world)
    [h] = make_hosts(env, f, 1)
    deprovision([h])
    assert wait_for(lambda: delivered([h]))
    posted = {json.loads(p["body"])["access_state_id"] for p in f.posts()}
    assert sid not in posted and len(posted) == STATES - 1
    [ev] = status(h)
    [covered] = [s for s in ev["states"] if s["id"] == sid]
    assert covered["status"] == "covered"
    assert covered["revocation_id"] == uuid("by-hand")
    # one naming other permissions covers nothing; nor does one that
    # several states would match alike (it cannot say which it is)
    for perms, same in (([uuid("perm-x")], False), ([], True)):
        w2 = json.loads(json.dumps(world))
        w2["access_revocations"][0]["permission_ids"] = perms
        if same:
            for s in w2["access_states"]:
                s["target_permission_ids"] = []
        f2 = fake(w2)
        [h2] = make_hosts(env, f2, 1)
        deprovision([h2])
        assert wait_for(lambda: delivered([h2]))
        assert len(f2.posts()) == STATES


def test_without_a_list_of_revocations_the_keys_still_hold(fake, env):
    """Older deployments have no GET /access_revocations: the fleet-wide
    key alone keeps it one revocation per state (for AccessOwl's 14 days)."""
    f = fake(people("alice", active=STATES))
    f.faults([{"method": "GET", "path": "/api/v1/access_revocations",
               "action": "status", "status": 404, "count": 1000}])
    hosts = make_hosts(env, f, 8)
    deprovision(hosts)
    assert wait_for(lambda: delivered(hosts), timeout=90)
    assert set(one_per_state(f).values()) == {1}
    assert {p["status"] for p in f.posts()} <= {201, 409}


def test_another_body_under_the_same_key_counts_as_filed(fake, env):
    """A host of another version filed the state with another reason: the
    fleet key then earns 422, and the pending revocation says it is done."""
    f = fake(with_permissions(people("alice", active=STATES)))
    sid = person_states("alice", STATES)[0]
    import http.client
    c = http.client.HTTPSConnection("127.0.0.1", f.port, context=f.ctx)
    c.request("POST", "/api/v1/access_revocations",
              body=json.dumps({"access_state_id": sid,
                               "reason": "another version's reason"}),
              headers={"Authorization": "Bearer " + f.token,
                       "Content-Type": "application/json",
                       "Idempotency-Key": "ao2-" + sid})
    assert c.getresponse().status == 201
    c.close()
    f.control("DELETE", "/_fake/requests")
    # the pending list, when first asked, is empty (a race with that host)
    f.faults([{"method": "GET", "path": "/api/v1/access_revocations",
               "action": "body", "body": {"data": [], "meta":
                                          {"next_cursor": None}}}])
    [h] = make_hosts(env, f, 1)
    deprovision([h])
    assert wait_for(lambda: delivered([h]))
    assert set(one_per_state(f).values()) == {1}
    [ev] = status(h)
    [s] = [s for s in ev["states"] if s["id"] == sid]
    assert s["status"] == "covered"
    assert [p["status"] for p in f.posts()].count(422) == 1


def test_a_host_told_to_wait_does_not_ask_sooner(fake, env):
    f = fake(people("alice", "bob", active=STATES), "--rate-limit", "2")
    [h] = make_hosts(env, f, 1)
    deprovision([h])
    assert wait_for(lambda: status(h)[0]["attempts"] >= 1)
    time.sleep(0.5)
    [ev] = status(h)
    assert ev["queue"] == "queued"
    n = len(f.requests())
    assert f.requests()[-1]["status"] == 429
    assert ev["next_attempt"] >= time.time() + 60   # Retry-After ~ an hour
    # nothing is sent before then: not by the timer's run, not by hand
    assert h.run("deliver").returncode == 0
    p = h.run("deliver", "--now")
    assert p.returncode == 75
    assert "asked this host to wait" in p.stderr
    p = h.run("revoke", "--user", "bob")
    assert p.returncode == 75
    assert len(f.requests()) == n
