"""`enforce`, opt-in: a password-locked account no longer gets in with an
SSH key, and nothing else changes.  As root, in a private mount namespace
over a copied /etc, with a real sshd on loopback and pamtester."""
import os
import time

import pytest

from conftest import HELPER
from pamwrap import MODULE, wait_for
from rootenv import Sshd, free_port, pamtester, require, write_pam_service
from test_pam_root import Host, write_tally, yesterday
from worlds import filed_for, people

NAMES = ("alice", "bob", "carol", "dave", "erin", "frank", "gina", "hank",
         "ivan", "jill", "kate", "liam")


@pytest.fixture
def ehost(fake, env, tmp_path):
    require()
    f = fake(people(*NAMES))
    e = env(f, identity='email_domain = "example.com";',
            extra='accounts: { exclude = [ "root", "erin" ]; };\n'
                  'events: { faillock = true; };')
    h = Host(tmp_path, f, e)
    (h.sys.etc / "security" / "faillock.conf").write_text(
        "deny = 3\nfail_interval = 900\nunlock_time = 600\n")
    yield h
    h.sys.close()


def set_shadow_password(s, user, field):
    """Write the password field of user's shadow entry as it is."""
    s.run(["usermod", "-p", field, user])
    assert s.shadow(user)[1] == field


def test_sshd_refuses_a_locked_key_user_and_revokes_once(ehost):
    s = ehost.sys
    for n in ("alice", "bob", "erin"):
        s.useradd(n, password="pw-" + n)
    s.useradd("carol")                               # '!': never a password
    s.useradd("dave")
    set_shadow_password(s, "dave", "!!")             # RHEL's default
    s.run(["usermod", "-L", "alice"])
    s.run(["usermod", "-L", "erin"])                 # excluded by the admin
    write_pam_service(s, "sshd", [
        "auth required pam_deny.so",
        f"account required {MODULE} enforce {ehost.args}",
        "account required pam_unix.so",
        f"session optional {MODULE} {ehost.args}",
        "session required pam_permit.so",
    ])
    users = ("alice", "bob", "carol", "dave", "erin")
    with Sshd(s, free_port()) as sshd:
        keys = {n: sshd.add_key(n) for n in users}
        for _ in range(3):
            for n in users:
                rc, out, err, secs = sshd.login(n, keys[n])
                assert (rc == 0) == (n != "alice"), (n, rc, sshd.log())
        assert "Access denied for user alice by PAM account configuration" \
            in sshd.log()
        assert wait_for(lambda: len(filed_for(ehost.f, "alice")) == 2)
        # unlocked, the same key gets in again
        s.run(["usermod", "-U", "alice"])
        rc, _, _, _ = sshd.login("alice", keys["alice"])
        assert rc == 0, sshd.log()
    time.sleep(0.5)
    assert len(ehost.f.posts()) == 2                 # alice, once
    assert filed_for(ehost.f, "erin") == []
    assert ehost.spawn_count() == 2                  # alice, erin: once each


def same_as_without(ehost, user, want_refused=False, svc="with"):
    """pamtester acct_mgmt with the enforcing module, and without it."""
    with_mod = pamtester(ehost.sys, svc, user, "acct_mgmt")
    without = pamtester(ehost.sys, "without", user, "acct_mgmt")
    if want_refused:
        assert without.returncode == 0, without.stderr
        assert with_mod.returncode != 0
        assert "Permission denied" in with_mod.stderr, with_mod.stderr
    else:
        assert with_mod.returncode == without.returncode, \
            (user, with_mod.stderr, without.stderr)
        # the same answer, word for word (pamtester prints PAM's)
        assert with_mod.stderr.replace(f"pam_start({svc},", "") == \
            without.stderr.replace("pam_start(without,", ""), user


def test_every_other_case_is_what_the_stack_says_without_the_module(ehost):
    s = ehost.sys
    broken = ehost.e.tmp / "broken-helper.sh"
    broken.write_text("#!/bin/sh\nexit 75\n")
    os.chmod(broken, 0o755)
    slow = ehost.e.tmp / "slow-helper.sh"
    slow.write_text("#!/bin/sh\nsleep 5\n")
    os.chmod(slow, 0o755)
    stack = ["auth required pam_permit.so",
             "account required pam_unix.so",
             "session required pam_permit.so"]
    write_pam_service(s, "without", stack)
    for svc, helper in (("with", ehost.wrapper), ("broken", broken),
                        ("slow", slow)):
        args = f"helper={helper} config={ehost.e.config_path}"
        write_pam_service(s, svc, [
            stack[0], f"account required {MODULE} enforce {args}",
            stack[1], f"session optional {MODULE} enforce {args}",
            stack[2]])
    for n in NAMES:
        s.useradd(n, password="pw-" + n)
    set_shadow_password(s, "carol", "!")            # key-only, Debian
    set_shadow_password(s, "dave", "!!")            # key-only, RHEL
    set_shadow_password(s, "frank", "*")
    set_shadow_password(s, "gina", "!*")
    s.run(["usermod", "-L", "erin"])                # locked, but excluded
    s.run(["usermod", "-e", "1", "hank"])           # expired: pam_unix says
    s.run(["chage", "-E", yesterday(), "ivan"])
    s.run(["passwd", "-l", "jill"])
    s.run(["usermod", "-e", "1", "jill"])           # locked and expired
    s.run(["chage", "-d", "0", "kate"])             # must change password
    now = time.time()
    write_tally(ehost, "liam", [now - 30, now - 20, now - 10])  # faillock
    for n in ("bob", "carol", "dave", "erin", "frank", "gina", "hank",
              "ivan", "jill", "kate", "liam", "nobody-here", "root"):
        same_as_without(ehost, n)
    # the one case it changes: a locked password, a managed account
    s.run(["usermod", "-L", "alice"])
    same_as_without(ehost, "alice", want_refused=True)
    same_as_without(ehost, "alice", want_refused=True)   # and again
    # a helper that fails, or does not answer in time: not refused
    s.run(["usermod", "-L", "bob"])
    same_as_without(ehost, "bob", svc="broken")
    same_as_without(ehost, "bob", svc="slow")
    # the session stack is never changed
    for n in ("alice", "bob"):
        w = pamtester(s, "with", n, "open_session", "close_session")
        assert w.returncode == 0, w.stderr
    # the revocations still happen, once each: the locked, the expired,
    # the lockout (events.faillock is on here); never the excluded
    revoked = ("alice", "hank", "ivan", "jill", "liam")
    for n in revoked:
        assert wait_for(lambda: len(filed_for(ehost.f, n)) == 2), n
    time.sleep(0.5)
    assert filed_for(ehost.f, "erin") == []
    assert len(ehost.f.posts()) == 2 * len(revoked)


def test_without_enforce_nothing_is_refused(ehost):
    s = ehost.sys
    s.useradd("alice", password="pw")
    s.run(["usermod", "-L", "alice"])
    write_pam_service(s, "plain", [
        "auth required pam_permit.so",
        f"account required {MODULE} {ehost.args}",
        "account required pam_unix.so"])
    for _ in range(3):
        p = pamtester(s, "plain", "alice", "acct_mgmt")
        assert p.returncode == 0, p.stderr
    assert wait_for(lambda: len(filed_for(ehost.f, "alice")) == 2)


def test_enqueue_says_not_managed(ehost):
    s = ehost.sys
    s.useradd("erin", password="pw")
    s.run(["usermod", "-L", "erin"])
    p = s.run([HELPER, "-c", ehost.e.config_path, "enqueue", "--user", "erin",
               "--event", "locked"], check=False)
    assert p.returncode == 1, p.stderr
    assert ehost.events() == []


def test_enforce_on_an_optional_line_logs_no_refusal(locked_alice):
    """A module does not know its line's control: on an `optional` line
    its PAM_PERM_DENIED is ignored by the stack, and its log must not
    claim that access was refused."""
    f, e, s = locked_alice
    write_pam_service(s, "opt", [
        "auth required pam_permit.so",
        f"account optional {MODULE} enforce helper={HELPER} "
        f"config={e.config_path}",
        "account required pam_permit.so",
    ])
    p = pamtester(s, "opt", "alice", "acct_mgmt")
    assert p.returncode == 0, p.stderr     # the stack let it in
    msgs = [r.message for r in s.syslog() if "alice" in r.message]
    assert any("answered PAM_PERM_DENIED (enforce); the stack's control "
               "for this line decides" in m for m in msgs), msgs
    assert not any("access refused" in m for m in msgs), msgs


def test_enforce_refuses_a_managed_lock_it_cannot_queue(fake, env, tmp_path):
    """Whether the account is managed and locked needs no spool: a full
    spool disk (any user can fill a small one) or a spool lock the service
    user holds must not let a locked key user in.  The event is not lost:
    the scan queues it once the spool takes events again."""
    import subprocess
    from rootenv import PrivateSystem
    require("flock", "setpriv")
    f = fake(people("alice", "bob"))
    e = env(f, identity='email_domain = "example.com";')
    s = PrivateSystem(tmp_path / "sys", syslog=True)
    try:
        for n in ("alice", "bob"):
            s.useradd(n, password="pw-" + n)
        scan = s.run([HELPER, "-c", str(e.config_path), "scan"], check=False)
        assert scan.returncode == 0, scan.stderr      # the baseline
        args = f"enforce helper={HELPER} config={e.config_path}"
        write_pam_service(s, "enf", [
            "auth required pam_permit.so",
            f"account required {MODULE} {args}",
            "account required pam_permit.so",
        ])
        s.run(["usermod", "-L", "alice"])
        s.run(["usermod", "-L", "bob"])
        # 1. the spool's disk is full (a small tmpfs, in this namespace)
        full = s.run(["sh", "-c",
                      f"mount -t tmpfs -o size=64k,mode=0700,uid=65534,"
                      f"gid=65534 full {e.spool} && "
                      f"(dd if=/dev/zero of={e.spool}/filler bs=4k "
                      f"2>/dev/null; true) && "
                      f"pamtester -v enf alice acct_mgmt; echo rc=$?"],
                     check=False)
        assert "rc=0" not in full.stdout, full.stdout + full.stderr
        assert "Permission denied" in full.stdout + full.stderr
        # 2. the service user holds the spool's lock
        e.spool.mkdir(exist_ok=True)
        os.chown(e.spool, 65534, 65534)
        holder = subprocess.Popen(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
             "flock", "-o", str(e.spool), "sleep", "60"])
        try:
            time.sleep(0.3)
            t = time.monotonic()
            p = pamtester(s, "enf", "bob", "acct_mgmt")
            took = time.monotonic() - t
            assert p.returncode != 0, (p.stdout, p.stderr, took)
        finally:
            holder.kill()
            holder.wait()
        msgs = [r.message for r in s.syslog()]
        for n in ("alice", "bob"):
            assert any(f"account {n} is locked and managed, but "
                       "accessowl-helper could not queue its event now" in m
                       for m in msgs), msgs
        # nothing was queued, and nothing is lost: the scan takes both
        assert not any(e.spool.glob("*/*.json"))
        scan = s.run([HELPER, "-c", str(e.config_path), "scan"], check=False)
        assert scan.returncode == 0, scan.stderr
        st = subprocess.run([HELPER, "-c", str(e.config_path), "status",
                             "--json"], capture_output=True, text=True)
        import json
        assert sorted((x["user"], x["event"]) for x in
                      json.loads(st.stdout)) == [("alice", "locked"),
                                                 ("bob", "locked")]
        # a sound account is never refused for any of this
        s.run(["usermod", "-U", "bob"])
        assert pamtester(s, "enf", "bob", "acct_mgmt").returncode == 0
    finally:
        s.close()
