"""As root, in a private mount namespace over a copied /etc: real useradd,
usermod -L, passwd -l, usermod -e, chage -E, pamtester and a real sshd."""
import datetime
import json
import os
import time

import pytest

from conftest import HELPER, lines
from pamwrap import MODULE, wait_for
from rootenv import (LOG_WARNING, PrivateSystem, Sshd, clean_env, free_port,
                     pamtester, require, write_pam_service)
from worlds import FLEET_REASON, filed_for, people

NAMES = ("alice", "bob", "carol", "dave", "erin", "frank")


class Host:
    """A private system with the module in a PAM service and a helper
    wrapper that counts its starts."""

    def __init__(self, tmp, f, e):
        self.f, self.e = f, e
        self.sys = PrivateSystem(tmp / "sys")
        self.spawns = e.tmp / "spawns"
        self.wrapper = e.tmp / "helper.sh"
        self.wrapper.write_text(f'#!/bin/sh\necho "$@" >> {self.spawns}\n'
                                f'exec {HELPER} "$@"\n')
        os.chmod(self.wrapper, 0o755)
        self.args = f"helper={self.wrapper} config={e.config_path}"
        write_pam_service(self.sys, "aotest", [
            "auth required pam_permit.so",
            f"account optional {MODULE} {self.args}",
            "account required pam_unix.so",
            f"session optional {MODULE} {self.args}",
            "session required pam_permit.so",
        ])

    def attempt(self, user, *ops, env=None):
        t = time.monotonic()
        p = pamtester(self.sys, "aotest", user, *(ops or ("acct_mgmt",)),
                      env=env)
        return p, time.monotonic() - t

    def spawn_count(self):
        return len(self.spawns.read_text().splitlines()) \
            if self.spawns.exists() else 0

    def helper(self, *args):
        import subprocess
        return subprocess.run([HELPER, "-c", str(self.e.config_path)] +
                              list(args), capture_output=True, text=True,
                              timeout=120)

    def events(self):
        return json.loads(self.helper("status", "--json").stdout)


@pytest.fixture
def host(fake, env, tmp_path):
    require()
    f = fake(people(*NAMES))
    e = env(f, identity='email_domain = "example.com";')
    h = Host(tmp_path, f, e)
    yield h
    h.sys.close()


def yesterday():
    return (datetime.date.today() - datetime.timedelta(days=1)).isoformat()


def test_each_way_of_locking_is_revoked_once(host):
    s = host.sys
    for n in NAMES[:5]:
        s.useradd(n, password="secret-" + n)
    s.useradd("frank")                       # no password: '!' alone
    s.run(["usermod", "-L", "alice"])
    s.run(["passwd", "-l", "bob"])
    s.run(["usermod", "-e", "2020-01-01", "carol"])
    s.run(["chage", "-E", yesterday(), "dave"])
    assert s.shadow("frank")[1] in ("!", "!!", "*", "!*")
    for _ in range(3):
        for n in NAMES:
            host.attempt(n)
    for n in ("alice", "bob", "carol", "dave"):
        assert wait_for(lambda: len(filed_for(host.f, n)) == 2), n
    time.sleep(0.5)
    assert filed_for(host.f, "erin") == [] and filed_for(host.f, "frank") == []
    assert len(host.f.posts()) == 8          # 4 people x 2 states, once each
    assert len(host.f.revocations()) == 8
    ev = host.events()
    assert sorted((x["user"], x["event"], x["queue"]) for x in ev) == [
        ("alice", "locked", "delivered"), ("bob", "locked", "delivered"),
        ("carol", "expired", "delivered"), ("dave", "expired", "delivered")]
    assert host.spawn_count() == 4


def test_200_attempts_are_one_episode_and_relock_is_another(host):
    s = host.sys
    s.useradd("alice", password="pw")
    s.run(["usermod", "-L", "alice"])
    for _ in range(200):
        p, _ = host.attempt("alice")
        assert p.returncode == 0  # pam_unix lets a locked account through
    assert host.spawn_count() <= 3
    assert wait_for(lambda: len(filed_for(host.f, "alice")) == 2)
    assert len(host.events()) == 1
    # unlock: a login sees it and ends the episode; lock again: new episode
    s.run(["usermod", "-U", "alice"])
    host.attempt("alice")
    s.run(["usermod", "-L", "alice"])
    for _ in range(20):
        host.attempt("alice")
    assert wait_for(lambda: [x["queue"] for x in host.events()] ==
                    ["delivered", "delivered"])
    # ... whose states were filed already: the first revocations are still
    # pending (alice's two states look alike, so the fleet key tells: 409)
    ev = host.events()
    assert [s["status"] for s in ev[1]["states"]] == ["filed earlier"] * 2
    assert len(filed_for(host.f, "alice")) == 2
    assert [p["status"] for p in host.f.posts()] == [201, 201, 409, 409]


def test_a_relock_after_the_clock_was_set_back_is_a_new_episode(host):
    """The unlock is seen after the clock was set back a day: on the wall
    clock before the episode was queued, on the boot clock after it.  The
    relock (the same hash, so the same key) is a new episode all the same."""
    from test_clocks import faketime_env, need_faketime
    need_faketime()
    back = faketime_env("-1d", clean_env(), helper=False)
    s = host.sys
    s.useradd("alice", password="pw")
    s.run(["usermod", "-L", "alice"])
    host.attempt("alice")
    assert wait_for(lambda: len(filed_for(host.f, "alice")) == 2)
    s.run(["usermod", "-U", "alice"])
    host.attempt("alice", env=back)
    s.run(["usermod", "-L", "alice"])
    for _ in range(3):
        host.attempt("alice", env=back)
    assert wait_for(lambda: [x["queue"] for x in host.events()] ==
                    ["delivered", "delivered"]), host.events()
    assert host.spawn_count() == 2


def test_a_login_after_the_spool_was_restored_is_queued_again(host):
    """The spool restored from a backup that lacks the event, the host
    rebooted (the module's records gone), the episode record kept: the next
    login queues the lock again, once, however many follow."""
    s = host.sys
    s.useradd("alice", password="pw")
    s.run(["usermod", "-L", "alice"])
    host.attempt("alice")
    assert wait_for(lambda: [x["queue"] for x in host.events()] ==
                    ["delivered"])
    for q in ("queue", "parked", "done"):
        for ev in (host.e.spool / q).glob("*.json"):
            ev.unlink()
    (s.run_dir / "accessowl" / "alice").unlink()
    assert host.events() == []
    for _ in range(200):
        host.attempt("alice")
    assert wait_for(lambda: [x["queue"] for x in host.events()] ==
                    ["delivered"]), host.events()
    assert host.spawn_count() == 2
    # the states were filed before: the same keys, refused as duplicates
    assert len(filed_for(host.f, "alice")) == 2
    assert [p["status"] for p in host.f.posts()] == [201, 201, 409, 409]


def test_sshd_key_login_of_locked_and_expired_users(host):
    s = host.sys
    users = ("alice", "bob", "carol", "dave", "erin")
    for n in users:
        s.useradd(n, password="pw-" + n)
    write_pam_service(s, "sshd", [
        "auth required pam_deny.so",
        f"account optional {MODULE} {host.args}",
        "account required pam_unix.so",
        f"session optional {MODULE} {host.args}",
        "session required pam_permit.so",
    ])
    with Sshd(s, free_port()) as sshd:
        keys = {n: sshd.add_key(n) for n in users}
        s.run(["usermod", "-L", "alice"])
        s.run(["usermod", "-e", "2020-01-01", "bob"])
        s.run(["passwd", "-l", "carol"])
        s.run(["chage", "-E", yesterday(), "dave"])
        # the trap: a locked account still logs in with a key under
        # UsePAM yes; an expired one is refused by pam_unix
        want = {"alice": 0, "carol": 0, "erin": 0}
        for n in users:
            rc, out, err, secs = sshd.login(n, keys[n])
            assert (rc == 0) == (n in want), (n, rc, sshd.log())
        for n in ("alice", "bob", "carol", "dave"):
            assert wait_for(lambda: len(filed_for(host.f, n)) == 2), \
                (n, sshd.log())
        for _ in range(3):
            for n in users:
                sshd.login(n, keys[n])
    time.sleep(0.5)
    assert filed_for(host.f, "erin") == []
    assert len(host.f.posts()) == 8
    assert host.spawn_count() == 4


def test_login_fast_while_accessowl_is_down_then_delivered(host):
    s = host.sys
    s.useradd("alice", password="pw")
    s.run(["usermod", "-L", "alice"])
    port = host.f.port
    host.f.stop()
    p, secs = host.attempt("alice", "acct_mgmt", "open_session",
                           "close_session")
    assert p.returncode == 0
    assert secs < 1.0, secs
    # the detached deliverer fails and schedules a retry
    assert wait_for(lambda: any(x["attempts"] >= 1 for x in host.events()),
                    timeout=60)
    [ev] = host.events()
    assert ev["queue"] == "queued" and ev["error"]
    host.f.start(port=port)
    # what the deliver timer does once AccessOwl is back
    assert wait_for(lambda: host.helper("deliver", "--now").returncode == 0
                    and host.events()[0]["queue"] == "delivered",
                    timeout=60, step=1)
    assert len(filed_for(host.f, "alice")) == 2


def write_tally(host, user, times):
    """pam_faillock's tally: 64-byte records (source, reserved, status, time)."""
    import struct
    d = host.sys.run_dir / "faillock"
    d.mkdir(exist_ok=True)
    (d / user).write_bytes(b"".join(struct.pack("=52sHHQ", b"192.0.2.7", 0,
                                                1, int(t)) for t in times))


@pytest.fixture
def faillock_host(fake, env, tmp_path, request):
    require()
    f = fake(people(*NAMES))
    e = env(f, identity='email_domain = "example.com";',
            extra=f"events: {{ faillock = {request.param}; }};")
    h = Host(tmp_path, f, e)
    (h.sys.etc / "security" / "faillock.conf").write_text(
        "deny = 3\nfail_interval = 900\nunlock_time = 600\n")
    for n in ("alice", "bob", "carol"):
        h.sys.useradd(n, password="pw-" + n)
    yield h
    h.sys.close()


@pytest.mark.parametrize("faillock_host", ["true"], indirect=True)
def test_faillock_lockout_is_revoked_when_enabled(faillock_host):
    h = faillock_host
    now = time.time()
    write_tally(h, "alice", [now - 30, now - 20, now - 10])  # exactly deny
    write_tally(h, "bob", [now - 20, now - 10])              # one short
    write_tally(h, "carol", [now - 2000, now - 1990, now - 1980])  # unlocked
    for _ in range(5):
        for n in ("alice", "bob", "carol"):
            p, _ = h.attempt(n)
            assert p.returncode == 0
    assert wait_for(lambda: len(filed_for(h.f, "alice")) == 2)
    time.sleep(0.5)
    assert len(h.f.posts()) == 2
    assert json.loads(h.f.posts()[0]["body"])["reason"] == FLEET_REASON
    assert h.spawn_count() == 1


@pytest.mark.parametrize("faillock_host", ["false"], indirect=True)
def test_faillock_lockout_is_not_revoked_by_default(faillock_host):
    h = faillock_host
    now = time.time()
    write_tally(h, "alice", [now - 30, now - 20, now - 10])
    for _ in range(10):
        h.attempt("alice")
    time.sleep(0.5)
    assert h.f.requests() == []
    assert h.events() == []
    assert h.spawn_count() == 1     # reported once, not managed, recorded


def test_a_shadow_the_service_may_not_read_is_said_at_every_attempt(
        locked_alice):
    """Where the caller's domain may not read /etc/shadow (an SELinux
    policy without accessowl_pam_read_shadow: the open fails with EACCES
    even for root), the module cannot see any lock.  It must say so, at
    every attempt and not only under `enforce`, and let the login
    through; here strace fails every open of /etc/shadow."""
    require("strace")
    f, e, s = locked_alice
    args = f"helper={HELPER} config={e.config_path}"
    write_pam_service(s, "blind", [
        "auth required pam_permit.so",
        f"account optional {MODULE} {args}",
        "account required pam_permit.so",
        f"session optional {MODULE} {args}",
        "session required pam_permit.so",
    ])
    for _ in range(2):
        p = s.run(["strace", "-f", "-qq", "-o", "/dev/null", "-P",
                   "/etc/shadow", "-e", "inject=openat:error=EACCES",
                   "pamtester", "-v", "blind", "alice", "acct_mgmt",
                   "open_session"], check=False)
        assert p.returncode == 0, p.stdout + p.stderr
    warned = [r for r in s.syslog() if "cannot read /etc/shadow" in
              r.message and "alice" in r.message]
    assert len(warned) == 4, [r.message for r in s.syslog()]
    assert all(r.severity <= LOG_WARNING for r in warned), warned
    assert "accessowl_pam_read_shadow" in warned[0].message
    assert f.revocations() == []
    # readable again: the lock is seen, and nothing more is said
    p = pamtester(s, "blind", "alice", "acct_mgmt")
    assert p.returncode == 0, p.stdout + p.stderr
    assert len([r for r in s.syslog() if "cannot read /etc/shadow" in
                r.message]) == 4
    assert [ev["user"] for ev in json.loads(
        e.run("status", "--json").stdout)] == ["alice"]
