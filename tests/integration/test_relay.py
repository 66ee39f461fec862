"""Fleet relay: hosts without the token forward their events over RELP to
a real rsyslogd on loopback (the shipped collector config), whose omprog
action runs `ingest`; only the collector holds the token and files.

See relayworld.py for the collector and the relay hosts.
"""
import collections
import json
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import check_failures, need_root
from harness import HELPER, ROOT, SVC_GID
from pamwrap import wait_for
from relayworld import (DOMAIN, Collector, RelayCerts, RelayHost,
                        SmallDisks)
from rootenv import require
from worlds import people, person_states

NAMES = [f"web{i:02d}.{DOMAIN}" for i in range(20)]
PEOPLE = ["alice", "p0", "p1", "p2", "p3", "p4"]
STATES = 2
COLLECTOR_CFG = f'collector: {{ hosts = [ "*.{DOMAIN}" ]; }};'


@pytest.fixture(scope="module")
def relay_certs(service_tmp):
    """In service_tmp: the service user reads the certificates, and pytest
    makes its own temporary tree 0700 again whenever a session starts."""
    d = service_tmp / "relay-certs"
    d.mkdir()
    os.chmod(d, 0o711)
    return RelayCerts(d, NAMES)


def status(who):
    p = who.run("status", "--json")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def queued(who):
    return [e for e in status(who) if e["queue"] in ("queued", "parked")]


def spool_events(env):
    q = env.spool / "queue"
    d = env.spool / "done"
    return (len(list(q.glob("*.json"))) if q.exists() else 0) + \
        (len(list(d.glob("*.json"))) if d.exists() else 0)


def collector_env(env, fake, spread=2):
    return env(fake, identity='email_domain = "example.com";', spread=spread,
               extra=COLLECTOR_CFG)


def enqueue_all(hosts, first):
    """Each host deletes alice and one other person; its own deliverer
    (started by enqueue) forwards at once."""
    procs = []
    for i, h in enumerate(hosts, first):
        procs.append(h.popen("enqueue", "--user", "alice", "--event",
                             "deleted"))
        procs.append(h.popen("enqueue", "--user", f"p{i % 5}", "--event",
                             "deleted"))
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err


def forwarded(h):
    st = status(h)
    return len(st) == 2 and all(e["queue"] == "forwarded" for e in st)


def tried(h):
    """The deliverer enqueue started on h has tried (it stops at the
    first failure: the host's other event waits for the next run)."""
    return any(e["attempts"] >= 1 for e in status(h))


def test_twenty_hosts_through_a_collector_killed_mid_stream(
        fake, env, relay_certs, service_tmp):
    need_root()
    f = fake(people(*PEOPLE, active=STATES))
    cenv = collector_env(env, f)
    col = Collector(service_tmp, relay_certs, cenv, confirm_timeout_ms=600000)
    hosts = [RelayHost(service_tmp, relay_certs, n, col.port) for n in NAMES]
    col.start()
    try:
        # 1. five hosts report; ingest takes their events into the spool
        enqueue_all(hosts[:5], 0)
        assert wait_for(lambda: spool_events(cenv) >= 10, timeout=60), \
            col.log()
        assert all(forwarded(h) for h in hosts[:5])
        # 2. ingest hangs (and omprog is told to wait for it): rsyslogd
        # acknowledges nothing of what ten more hosts send, since it
        # acknowledges only what ingest has kept
        [pid] = col.ingests()
        os.kill(pid, signal.SIGSTOP)
        taken = spool_events(cenv)
        enqueue_all(hosts[5:15], 5)

        def timed_out():
            return any("not acknowledged" in (e["error"] or "")
                       for h in hosts[5:15] for e in status(h))
        assert wait_for(timed_out, timeout=60)
        assert not any(e["queue"] != "queued" for h in hosts[5:15]
                       for e in status(h))
        assert spool_events(cenv) == taken
        # 3. SIGKILL rsyslogd and ingest (the hung one too): the hosts
        # still waiting for it give up and keep their events; the last
        # five hosts report while it is down
        col.kill()
        assert wait_for(lambda: all(tried(h) for h in hosts[5:15]),
                        timeout=60)
        for h in hosts[5:15]:
            st = status(h)
            assert [e["queue"] for e in st] == ["queued"] * 2, st
        enqueue_all(hosts[15:], 15)
        assert wait_for(lambda: all(tried(h) for h in hosts[15:]),
                        timeout=60)
        for h in hosts[15:]:
            st = status(h)
            assert [e["queue"] for e in st] == ["queued"] * 2, st
            assert all("not acknowledged" in e["error"] for e in st
                       if e["attempts"] >= 1), st
        # 4. the collector comes back; the hosts' timer runs deliver
        col.start()

        def hosts_drained():
            for h in hosts[5:]:
                if queued(h):
                    h.run("deliver", "--now")
            return not any(queued(h) for h in hosts)
        assert wait_for(hosts_drained, timeout=120, step=1)
        assert wait_for(lambda: spool_events(cenv) == 40, timeout=60), \
            (spool_events(cenv), col.log())

        # 5. the collector files what it has (its deliverer was started
        # by ingest; its timer would retry what failed)
        def collector_done():
            st = status(cenv)
            if any(e["queue"] != "delivered" for e in st):
                cenv.run("deliver", "--now")
                return False
            return True
        assert wait_for(collector_done, timeout=120, step=1)
    finally:
        col.stop()

    # every access state revoked exactly once
    want = {s for p in PEOPLE for s in person_states(p, STATES)}
    per_state = collections.Counter(r["access_state_id"]
                                     for r in f.revocations())
    assert set(per_state) == want
    assert set(per_state.values()) == {1}, per_state
    # each host's event kept once, whatever rsyslog handed over again
    st = status(cenv)
    assert len(st) == 40
    assert len({(e["host"], e["id"]) for e in st}) == 40
    assert collections.Counter(e["host"] for e in st) == \
        {n: 2 for n in NAMES}
    assert all(e["received"] > 0 and e["via"] == "127.0.0.1" for e in st)
    # the collector's status names every host that reported
    text = cenv.run("status").stdout
    assert "REPORTING HOST" in text
    for n in NAMES:
        assert n in text
    # no event left on any host, and no token anywhere on them
    for h in hosts:
        assert not queued(h)
        for path in h.dir.rglob("*"):
            if path.is_file():
                assert cenv.token not in path.read_text(errors="replace"), path
        conf = h.config_path.read_text()
        assert not re.search(r"^\s*api\s*[:=]", conf, re.M), conf
        assert "token_file" not in conf
    # the budget: a person's states are looked up again only for events
    # that happened after the last lookup (here three waves of reports);
    # one lookup (3 requests) per event would be 120 requests plus the 12
    # POSTs (measured: about 60)
    reqs = f.requests()
    print(f"relay: {len(reqs)} API requests for 40 events, 6 people, "
          f"{len(want)} states")
    assert len(reqs) <= 80


def test_a_full_collector_disk_loses_no_acknowledged_event(
        fake, env, relay_certs, service_tmp):
    """Issue 23: the collector's disks fill up (rsyslog's work directory
    and the spool, each a full tmpfs in a private mount namespace).  What
    a relay host sends meanwhile must not be acknowledged and then lost:
    at every moment each event is in the collector's spool or still queued
    on its host, also when ingest is killed mid-message and rsyslogd is
    stopped while ingest refuses; once space returns, each reaches the
    collector's spool and is filed once."""
    require("unshare", "nsenter", "mount")
    f = fake(people(*PEOPLE, active=STATES))
    cenv = collector_env(env, f)
    cenv.spool.mkdir(mode=0o700)
    os.chown(cenv.spool, 65534, SVC_GID)
    col = Collector(service_tmp, relay_certs, cenv)
    disks = SmallDisks([(col.work, 0, 0), (cenv.spool, 65534, SVC_GID)])
    col.disks = disks
    hosts = [RelayHost(service_tmp, relay_certs, n, col.port)
             for n in NAMES[:5]]

    def crun(*args):
        p = subprocess.run(disks.argv(HELPER, "-c", str(cenv.config_path),
                                      *args), capture_output=True,
                           text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        return p

    def at_collector():
        return {e["id"] for e in json.loads(crun("status", "--json").stdout)}

    def lost():
        """Events a host let go of that the collector does not have."""
        have = at_collector()
        return [(h.name, e["id"], e["queue"]) for h in hosts
                for e in status(h)
                if e["queue"] != "queued" and e["id"] not in have]

    try:
        col.start()
        # 1. space: the first host's events are taken
        enqueue_all(hosts[:1], 0)
        assert wait_for(lambda: len(at_collector()) == 2, timeout=60), \
            col.log()
        assert wait_for(lambda: forwarded(hosts[0]), timeout=30)
        # 2. both disks full: four hosts report; sessions time out (or
        # wait: librelp does not bound its TLS handshake), nothing is
        # acknowledged, nothing lost
        disks.fill()
        enqueue_all(hosts[1:], 1)

        def timed_out():
            return any("not acknowledged" in (e["error"] or "")
                       for h in hosts[1:] for e in status(h))
        assert wait_for(timed_out, timeout=60), col.log()
        assert lost() == [], col.log()
        assert not any(e["queue"] != "queued" for h in hosts[1:]
                       for e in status(h))
        assert len(at_collector()) == 2
        # rsyslogd stops: whoever still waited gives up and keeps its events
        col.stop()
        assert wait_for(lambda: all(tried(h) for h in hosts[1:]),
                        timeout=60)
        assert lost() == [], col.log()
        for h in hosts[1:]:
            st = status(h)
            assert [e["queue"] for e in st] == ["queued"] * 2, st
        # 3. a host is mid-session while ingest refuses (the spool is
        # full): ingest is killed, then rsyslogd is stopped (it says
        # "serverclose" instead of answering); neither may acknowledge
        # what is not kept
        col.start()
        mark = len(col.log())
        d = hosts[1].popen("deliver", "--now")
        assert wait_for(lambda: "returned: ERROR" in col.log()[mark:],
                        timeout=30), col.log()[mark:]
        [pid] = col.ingests()
        os.kill(pid, signal.SIGKILL)
        assert wait_for(lambda: col.ingests() not in ([], [pid]),
                        timeout=30), col.log()[mark:]
        col.stop()
        out, err = d.communicate(timeout=60)
        assert lost() == [], (out, err, col.log()[mark:])
        assert d.returncode == 75, (out, err, col.log()[mark:])
        assert [e["queue"] for e in status(hosts[1])] == ["queued"] * 2
        # 4. space returns: the hosts send again, the collector keeps
        # each event once and files it
        col.start()
        disks.free()

        def hosts_drained():
            for h in hosts:
                if queued(h):
                    h.run("deliver", "--now")
            assert lost() == [], col.log()
            return not any(queued(h) for h in hosts)
        assert wait_for(hosts_drained, timeout=120, step=1), col.log()
        assert len(at_collector()) == 10

        def collector_done():
            st = json.loads(crun("status", "--json").stdout)
            if any(e["queue"] != "delivered" for e in st):
                crun("deliver", "--now")
                return False
            return True
        assert wait_for(collector_done, timeout=120, step=1)
        st = json.loads(crun("status", "--json").stdout)
    finally:
        col.kill()
        disks.close()
    assert len(st) == 10
    assert len({(e["host"], e["id"]) for e in st}) == 10
    assert collections.Counter(e["host"] for e in st) == \
        {h.name: 2 for h in hosts}
    sent = {e["id"] for h in hosts for e in status(h)}
    assert sent == {e["id"] for e in st}
    # every access state of the six people revoked exactly once
    want = {s for p in PEOPLE for s in person_states(p, STATES)}
    per_state = collections.Counter(r["access_state_id"]
                                     for r in f.revocations())
    assert set(per_state) == want
    assert set(per_state.values()) == {1}, per_state


def ingest_proc(cenv):
    p = subprocess.Popen([HELPER, "-c", str(cenv.config_path), "ingest"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, bufsize=1)
    assert p.stdout.readline() == "OK\n"
    return p


def ask(p, line):
    p.stdin.write(line + "\n")
    p.stdin.flush()
    return p.stdout.readline().rstrip("\n")


def event(host=f"web01.{DOMAIN}", user="alice", id_="a" * 32, **kw):
    ev = {"accessowl": 1, "id": id_, "host": host, "user": user,
          "uid": 1001, "event": "locked", "email": f"{user}@example.com",
          "email_source": "email_domain", "created": int(time.time()),
          "service": "sshd", "rhost": "192.0.2.1"}
    ev.update(kw)
    return json.dumps(ev, separators=(",", ":"))


def rawmsg(js, host=f"web01.{DOMAIN}"):
    return f"<85>1 2026-11-27T09:00:00Z {host} accessowl - event - {js}"


def test_ingest_keeps_each_event_once_and_never_stalls(fake, env):
    f = fake(people("alice", "bob"))
    cenv = collector_env(env, f)
    p = ingest_proc(cenv)
    ev = event()
    # %rawmsg% and %fromhost-ip% %msg% templates both work
    assert ask(p, rawmsg(ev)) == "OK"
    assert ask(p, "127.0.0.1 " + ev) == "OK"          # sent again: kept once
    assert ask(p, "198.51.100.7 " + event(id_="b" * 32, user="bob")) == "OK"
    # malformed: an error answer once, OK when rsyslog sends it again
    bad = "not json at all {"
    ans = ask(p, bad)
    assert ans.startswith("ERROR: refused"), ans
    assert ask(p, bad) == "OK"
    # more refusals within the minute are logged and answered OK: a host
    # sending garbage cannot hold up the others
    assert ask(p, event(host="evil.example.org", id_="c" * 32)) == "OK"
    assert ask(p, event(email="not-an-address", id_="d" * 32)) == "OK"
    assert ask(p, event(event="rooted", id_="e" * 32)) == "OK"
    assert ask(p, "x" * 20000 + event(id_="f" * 32)) == "OK"
    assert ask(p, event(uid=2 ** 40, id_="1" * 32)) == "OK"
    # another host replaying web01's event id: refused, web01's kept
    assert ask(p, event(host=f"web02.{DOMAIN}", created=json.loads(ev)
                        ["created"])) == "OK"
    # and the pipeline still flows
    assert ask(p, event(id_="2" * 32, user="bob", host=f"web03.{DOMAIN}")) \
        == "OK"
    p.stdin.close()
    err = p.stderr.read()
    assert p.wait(30) == 0, err
    st = status(cenv)
    got = sorted((e["host"], e["id"], e["user"]) for e in st)
    assert got == [(f"web01.{DOMAIN}", "a" * 32, "alice"),
                   (f"web01.{DOMAIN}", "b" * 32, "bob"),
                   (f"web03.{DOMAIN}", "2" * 32, "bob")], got
    vias = {e["id"]: e.get("via") for e in st}
    assert vias["b" * 32] == "198.51.100.7"
    # every refusal said why
    for why in ("not one JSON object",
                "evil.example.org is not in collector.hosts",
                "\"email\" is not an e-mail address",
                "\"event\" is not one of",
                "longer than 8192 bytes",
                "\"uid\" is missing or out of range",
                "a replay or a forgery"):
        assert why in err, (why, err)


def test_ingest_answers_already_kept_only_once_it_is_on_disk(env):
    """An event sent again (a relay host that timed out, rsyslog after a
    crash) is in the spool already, but the ingest that wrote it may have
    died after its rename, before its fsync of the directory: "OK" lets
    the host drop its copy, so it must wait for the copy here to be
    synced.  With the fsync of the file, then of its directory, failing
    (strace injects EIO), ingest must not answer OK."""
    require("strace")
    cenv = env(None, identity='email_domain = "example.com";',
               extra=COLLECTOR_CFG)   # no AccessOwl: the event stays queued
    ev = "127.0.0.1 " + event()
    p = ingest_proc(cenv)
    assert ask(p, ev) == "OK"
    p.stdin.close()
    assert p.wait(30) == 0, p.stderr.read()
    # the deliverer ingest started has tried, and left it queued
    assert wait_for(lambda: status(cenv)[0]["attempts"] >= 1, timeout=30)
    [name] = os.listdir(cenv.spool / "queue")
    path = cenv.spool / "queue" / name
    for target in (path, path.parent):
        # (LeakSanitizer, in `make asan`, cannot work under ptrace)
        s = subprocess.Popen(
            ["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=fsync",
             "-e", "inject=fsync:error=EIO", "-P", str(target), HELPER,
             "-c", str(cenv.config_path), "ingest"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, bufsize=1,
            env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0"))
        assert s.stdout.readline() == "OK\n"
        answer = ask(s, ev)
        s.stdin.close()
        err = s.stderr.read()
        assert s.wait(30) == 0, err
        assert answer == "ERROR: cannot make sure the event is kept", \
            (target, answer, err)
        assert "cannot be made durable there: Input/output error" in err, err
    # without the fault: kept once, answered OK
    p = ingest_proc(cenv)
    assert ask(p, ev) == "OK"
    p.stdin.close()
    assert p.wait(30) == 0, p.stderr.read()
    assert [e["id"] for e in status(cenv)] == ["a" * 32]


def test_a_sender_naming_too_many_people_is_parked_not_filed(fake, env):
    """A compromised relay host reports false locks of many people: beyond
    collector.sender_people_per_hour its events wait for the administrator
    instead of spending the token's budget.  It cannot escape by claiming
    other host names: the budget follows the address rsyslog saw."""
    names = ["alice", "p0", "p1", "p2", "p3", "p4"]
    f = fake(people(*names))
    cenv = env(f, identity='email_domain = "example.com";', spread=0,
               extra=f'collector: {{ hosts = [ "*.{DOMAIN}" ]; '
                     f'sender_people_per_hour = 3; }};')
    p = ingest_proc(cenv)
    ids = iter(f"{i:032x}" for i in range(1, 1000))
    nat, evil, other = "203.0.113.9", "198.51.100.66", "192.0.2.44"
    # a fleet behind one NAT address reports one person from 20 hosts: one
    # person, within any budget
    for i in range(20):
        assert ask(p, nat + " " + event(host=f"web{i:02d}.{DOMAIN}",
                                        id_=next(ids))) == "OK"
    # the compromised sender names five people, each under another name
    sent = {}
    for i, who in enumerate(["p0", "p1", "p2", "p3", "p4"]):
        sent[who] = next(ids)
        assert ask(p, evil + " " + event(host=f"db{i}.{DOMAIN}", user=who,
                                         id_=sent[who])) == "OK"
    # a person it named already still passes; a resent event stays once
    again = next(ids)
    assert ask(p, evil + " " + event(host=f"db9.{DOMAIN}", user="p1",
                                     id_=again)) == "OK"
    assert ask(p, evil + " " + event(host=f"db3.{DOMAIN}", user="p3",
                                     id_=sent["p3"])) == "OK"
    # another sender has its own budget
    mine = next(ids)
    assert ask(p, other + " " + event(host=f"app1.{DOMAIN}", user="p4",
                                      id_=mine)) == "OK"
    p.stdin.close()
    err = p.stderr.read()
    assert p.wait(30) == 0, err
    st = {e["id"]: e for e in status(cenv)}
    assert len(st) == 20 + 5 + 1 + 1, sorted(st)
    parked = sorted(e["user"] for e in st.values() if e["queue"] == "parked")
    assert parked == ["p3", "p4"], parked
    for who in ("p3", "p4"):
        e = st[sent[who]]
        assert e["via"] == evil
        assert f"sender {evil} reported more than 3 different people" \
            in e["error"], e
        assert "deliver --retry-parked" in e["error"]
    # (ingest has started a deliverer: they may be delivered already)
    assert st[again]["queue"] in ("queued", "delivered")
    assert st[mine]["queue"] in ("queued", "delivered")
    assert err.count(f"(from {evil})") >= 2 and "parked: sender" in err, err
    # delivery files the others and leaves the parked alone (ingest has
    # started a deliverer too: whichever runs, the result is the same)
    def settled():
        d = cenv.run("deliver", "--now")
        assert d.returncode == 0, d.stderr
        return all(e["queue"] in ("delivered", "parked")
                   for e in status(cenv))
    assert wait_for(settled, timeout=60, step=0.5), status(cenv)
    left = sorted(e["user"] for e in status(cenv) if e["queue"] != "delivered")
    assert left == ["p3", "p4"], left
    assert len(f.revocations()) == 2 * 5, f.revocations()
    # the administrator checked db3 and db4 and releases them: filed once
    d = cenv.run("deliver", "--retry-parked")
    assert d.returncode == 0, d.stderr
    assert wait_for(lambda: settled() and len(f.revocations()) == 2 * 6,
                    timeout=60, step=0.5), f.revocations()
    assert not [e for e in status(cenv) if e["queue"] != "delivered"]


def test_released_relay_events_keep_the_person_their_host_resolved(fake, env):
    """A relay host's account is resolved by that host (its identity.map):
    when the collector releases a parked event of it, its own identity
    rules and its own accounts of the same name must not choose another
    person.  Here the collector maps its own account alice to
    alice@example.com, a different person from the one web01 named."""
    world = people("alice", "p0", "asmith")
    for u in world["users"]:
        if u["email"] == "asmith@example.com":
            u["email"] = "alice.smith@corp.example"
    f = fake(world)
    cenv = env(f, identity='email_domain = "example.com"; map = ( { user '
               '= "alice"; email = "alice@example.com"; } );', spread=0,
               extra=f'collector: {{ hosts = [ "*.{DOMAIN}" ]; '
                     f'sender_people_per_hour = 1; }};')
    p = ingest_proc(cenv)
    assert ask(p, "192.0.2.9 " + event(user="p0", id_="1" * 32)) == "OK"
    # over the budget: parked before its person was looked up
    assert ask(p, "192.0.2.9 " + event(
        user="alice", email="alice.smith@corp.example",
        email_source="identity.map", id_="2" * 32)) == "OK"
    p.stdin.close()
    assert p.wait(30) == 0, p.stderr.read()
    [parked] = [e for e in status(cenv) if e["queue"] == "parked"]
    assert parked["email"] == "alice.smith@corp.example"
    d = cenv.run("deliver", "--retry-parked")
    assert d.returncode == 0, d.stderr

    def settled():
        cenv.run("deliver", "--now")
        return all(e["queue"] == "delivered" for e in status(cenv))
    assert wait_for(settled, timeout=60, step=0.5), status(cenv)
    revoked = {r["access_state_id"] for r in f.revocations()}
    assert revoked == set(person_states("p0", 2)) | \
        set(person_states("asmith", 2)), revoked
    [ev] = [e for e in status(cenv) if e["user"] == "alice"]
    assert ev["email"] == "alice.smith@corp.example"


def test_parked_events_are_released_or_dropped_by_sender(fake, env):
    """After a sender went over its budget, the administrator releases
    what a sound sender reported and drops what a compromised one made up:
    `deliver --retry-parked --from` and `deliver --drop-parked --from`."""
    f = fake(people("p0", "p1", "p2", "p3", "p4"))
    cenv = env(f, identity='email_domain = "example.com";', spread=0,
               extra=f'collector: {{ hosts = [ "*.{DOMAIN}" ]; '
                     f'sender_people_per_hour = 1; }};')
    p = ingest_proc(cenv)
    evil, sound = "198.51.100.66", "192.0.2.44"
    for who, via, host, id_ in (
            ("p0", evil, f"db1.{DOMAIN}", "1"), ("p1", evil, f"db2.{DOMAIN}",
                                                  "2"),
            ("p2", evil, f"db3.{DOMAIN}", "3"),
            ("p3", sound, f"app1.{DOMAIN}", "4"),
            ("p4", sound, f"app1.{DOMAIN}", "5")):
        assert ask(p, f"{via} " + event(host=host, user=who,
                                        id_=id_ * 32)) == "OK"
    p.stdin.close()
    assert p.wait(30) == 0, p.stderr.read()

    def parked():
        return sorted(e["user"] for e in status(cenv)
                      if e["queue"] == "parked")
    assert parked() == ["p1", "p2", "p4"]
    # --drop-parked needs --from; nothing happens without it
    d = cenv.run("deliver", "--drop-parked")
    assert d.returncode == 64 and "needs --from" in d.stderr, d.stderr
    assert parked() == ["p1", "p2", "p4"]
    # the sound sender's, by the host name it gave
    d = cenv.run("deliver", "--retry-parked", "--from", f"APP1.{DOMAIN}")
    assert d.returncode == 0, d.stderr
    assert parked() == ["p1", "p2"]
    # the compromised sender's, by its address: gone, each logged
    d = cenv.run("deliver", "--drop-parked", "--from", evil)
    assert d.returncode == 0, d.stderr
    assert "dropped 2 parked events reported by " + evil in d.stdout
    assert d.stderr.count("dropped parked event") == 2, d.stderr
    assert parked() == []

    def settled():
        cenv.run("deliver", "--now")
        return all(e["queue"] == "delivered" for e in status(cenv))
    assert wait_for(settled, timeout=60, step=0.5), status(cenv)
    revoked = {r["access_state_id"] for r in f.revocations()}
    want = set()
    for who in ("p0", "p3", "p4"):
        want |= set(person_states(who, 2))
    assert revoked == want, revoked


RELPSEND = ROOT / "build" / "tests" / "relpsend"


def test_a_host_cannot_forge_the_sender_address_with_a_newline(
        fake, env, relay_certs, service_tmp):
    """The sender's budget follows the address rsyslog puts before the
    message.  A compromised host sends, over its own RELP session, a
    message with a newline and a line of its own making: a forged address
    and another event.  The shipped template escapes control characters,
    so ingest sees one line, which it refuses; nothing is attributed to
    the forged address.  Even where the administrator has turned rsyslog's
    own escaping on reception off, as here."""
    need_root()
    f = fake(people("alice", "bob", "carol"))
    cenv = collector_env(env, f, spread=0)
    col = Collector(service_tmp, relay_certs, cenv, global_params=(
        'parser.escapeControlCharactersOnReceive="off"'))
    name = NAMES[1]
    col.start()

    def send(msg):
        p = subprocess.run(
            [str(RELPSEND), "localhost", str(col.port),
             str(relay_certs.d / "ca.pem"), str(relay_certs.d / f"{name}.pem"),
             str(relay_certs.d / f"{name}.key")],
            input=msg.encode(), capture_output=True, timeout=60)
        assert p.returncode == 0, p.stderr

    def users():
        return sorted(e["user"] for e in status(cenv))
    try:
        # the client works: a plain event is taken
        send(rawmsg(event(host=name, user="alice", id_="a" * 32), name))
        assert wait_for(lambda: users() == ["alice"], timeout=30), users()
        # the attack
        forged = "198.51.100.99 " + event(host=NAMES[2], user="bob",
                                          id_="b" * 32)
        send(rawmsg(event(host=name, user="alice", id_="c" * 32), name) +
             "\n" + forged)
        # what comes after it is taken: the attack has been handled
        send(rawmsg(event(host=name, user="carol", id_="d" * 32), name))
        assert wait_for(lambda: "carol" in users(), timeout=60), users()
    finally:
        col.stop()
    st = status(cenv)
    assert not [e for e in st if e.get("via") == "198.51.100.99"], st
    assert "bob" not in users(), st
    assert {e.get("via") for e in st} == {"127.0.0.1"}, st


def test_collector_refuses_a_host_without_its_ca_and_hosts_check_its_name(
        fake, env, relay_certs, service_tmp):
    need_root()
    f = fake(people("alice"))
    cenv = collector_env(env, f)
    col = Collector(service_tmp, relay_certs, cenv)
    rogue = RelayHost(service_tmp, relay_certs, f"rogue.{DOMAIN}", col.port,
                      cert="rogue")
    # the collector's certificate names localhost, not 127.0.0.1
    wrong_name = RelayHost(service_tmp, relay_certs, NAMES[0], col.port,
                           url=f"relp://127.0.0.1:{col.port}")
    col.start()
    try:
        for h in (rogue, wrong_name):
            p = h.run("enqueue", "--user", "alice", "--event", "deleted")
            assert p.returncode == 0, p.stderr
            # the deliverer enqueue started tried, and failed
            assert wait_for(lambda: status(h)[0]["attempts"] >= 1,
                            timeout=30)
            [e] = status(h)
            assert e["queue"] == "queued"
            assert "not acknowledged" in e["error"]
        c = wrong_name.run("check")
        assert c.returncode != 0
        assert "FAILED: the collector at relp://127.0.0.1" in c.stdout
        time.sleep(1)
        assert spool_events(cenv) == 0
    finally:
        col.stop()
    assert f.requests() == []


def test_check_and_revoke_on_a_relay_host(fake, env, relay_certs,
                                          service_tmp):
    need_root()
    f = fake(people("alice"))
    cenv = collector_env(env, f, spread=0)
    col = Collector(service_tmp, relay_certs, cenv)
    h = RelayHost(service_tmp, relay_certs, NAMES[1], col.port)
    col.start()
    try:
        c = h.run("check")
        assert check_failures(c) == [], c.stdout + c.stderr
        # a relay host cannot look at AccessOwl
        d = h.run("revoke", "--user", "alice", "--dry-run")
        assert d.returncode == 64
        assert "run revoke --dry-run on the collector" in d.stderr
        # by hand: queued and forwarded at once; the collector files it
        r = h.run("revoke", "--user", "alice")
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith("forwarded\tevent "), r.stdout
        assert wait_for(lambda: len(f.revocations()) == STATES, timeout=60)
    finally:
        col.stop()
    assert "ok: private key" in c.stdout
    assert "proved its name and accepted this host's certificate" in c.stdout
    assert "token" not in c.stdout
    [e] = status(h)
    assert (e["queue"], e["event"]) == ("forwarded", "manual")
    # a manual revoke files with keys of its own, as on any host
    for p in f.posts():
        assert p["headers"]["idempotency-key"].startswith("ao1-" + e["id"])


def test_a_world_readable_key_is_refused(relay_certs, service_tmp):
    need_root()
    h = RelayHost(service_tmp, relay_certs, NAMES[2], 9)
    key = h.dir / "host.key"
    os.chmod(key, 0o644)
    p = h.run("check")
    assert p.returncode == 77
    [failed] = check_failures(p)
    assert "private key %s is readable by everyone" % key in failed
    p = h.run("deliver", "--now")
    assert p.returncode == 77


def test_tls_off_only_when_set_and_the_log_says_so(relay_certs, service_tmp):
    need_root()
    h = RelayHost(service_tmp, relay_certs, NAMES[3], 9)
    text = h.config_path.read_text()
    # the default is TLS: without the certificate's files it is refused
    h.config_path.write_text(text.replace(
        f'cert_file = "{relay_certs.d / (NAMES[3] + ".pem")}";', ""))
    p = h.run("check")
    assert p.returncode == 78
    assert "relay.tls = true (the default) needs" in p.stdout
    h.config_path.write_text(text.replace("timeout = 5;",
                                          "timeout = 5; tls = false;"))
    assert h.run("enqueue", "--user", "alice", "--event",
                 "deleted").returncode == 0
    # the deliverer enqueue started tries first
    assert wait_for(lambda: status(h)[0]["attempts"] >= 1, timeout=30)
    p = h.run("deliver", "--now")
    assert p.returncode == 75
    assert "relay.tls = false: events go to the collector localhost:9 in " \
        "clear text" in p.stderr
    [e] = status(h)
    assert e["queue"] == "queued" and "not acknowledged" in e["error"]
