"""Self-test of rootenv: real shadow-utils, PAM and sshd on a private /etc.

Root-only (skips for a non-root developer, fails under CI=true).  The
module-scoped host_untouched fixture proves that none of it reached the
host's passwd, shadow, group, gshadow or /etc/pam.d.
"""
import datetime
import hashlib
import os
import pwd
import socket

import pytest

import rootenv
from conftest import need_root
from rootenv import (PERMIT_ALL, UNIX_ACCOUNT, PrivateSystem, Sshd,
                     free_port, pamtester, write_pam_service)

EPOCH = datetime.date(1970, 1, 1)


def host_state():
    """Hashes of the host's account files and of every /etc/pam.d file."""
    state = {}
    for f in ("/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow",
              "/etc/subuid", "/etc/subgid"):
        try:
            with open(f, "rb") as fh:
                state[f] = hashlib.sha256(fh.read()).hexdigest()
        except FileNotFoundError:
            state[f] = None
    for name in sorted(os.listdir("/etc/pam.d")):
        p = os.path.join("/etc/pam.d", name)
        with open(p, "rb") as fh:
            state[p] = hashlib.sha256(fh.read()).hexdigest()
    state["/home"] = sorted(os.listdir("/home")) if os.path.isdir("/home") \
        else None
    state["/run/sshd"] = os.path.exists("/run/sshd")
    return state


@pytest.fixture(scope="module", autouse=True)
def host_untouched():
    if os.geteuid() != 0:       # the tests themselves skip (or fail in CI)
        yield
        return
    before = host_state()
    yield
    after = host_state()
    changed = sorted(k for k in set(before) | set(after)
                     if before.get(k) != after.get(k))
    assert not changed, f"the host changed: {changed}"


@pytest.fixture
def system(tmp_path):
    need_root()
    rootenv.require()
    s = PrivateSystem(tmp_path)
    yield s
    s.close()


def days(d):
    return (d - EPOCH).days


def host_has_user(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def test_useradd_lands_in_the_copy_only(system):
    assert not host_has_user("ao_alice")
    system.useradd("ao_alice", password="Secret-1", gecos="alice@example.com")
    pw = system.passwd_entry("ao_alice")
    assert pw[4] == "alice@example.com" and pw[5] == "/home/ao_alice"
    sh = system.shadow("ao_alice")
    assert len(sh) == 9 and sh[1].startswith("$")
    assert "ao_alice:" in (system.etc / "group").read_text()
    assert (system.home_dir / "ao_alice" / ".profile").exists()
    # the host's files and NSS know nothing of her
    assert not host_has_user("ao_alice")
    with open("/etc/passwd") as f:
        assert "ao_alice" not in f.read()
    # inside the namespace, NSS sees the copy
    out = system.run(["getent", "passwd", "ao_alice"]).stdout
    assert out.startswith("ao_alice:x:")


def test_no_password_is_not_a_lock(system):
    system.useradd("ao_keyonly")
    assert system.shadow("ao_keyonly")[1] in ("!", "!!", "*", "!*")


def test_lock_unlock_expire_delete(system):
    system.useradd("ao_bob", password="Secret-2")
    hashed = system.shadow("ao_bob")[1]

    system.run(["usermod", "-L", "ao_bob"])
    assert system.shadow("ao_bob")[1] == "!" + hashed
    system.run(["usermod", "-U", "ao_bob"])
    assert system.shadow("ao_bob")[1] == hashed
    system.run(["passwd", "-l", "ao_bob"])
    assert system.shadow("ao_bob")[1] == "!" + hashed
    system.run(["passwd", "-u", "ao_bob"])
    assert system.shadow("ao_bob")[1] == hashed

    system.run(["usermod", "-e", "2020-01-01", "ao_bob"])
    assert system.shadow("ao_bob")[7] == str(days(datetime.date(2020, 1, 1)))
    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    system.run(["chage", "-E", yesterday.isoformat(), "ao_bob"])
    assert system.shadow("ao_bob")[7] == str(days(yesterday))

    system.run(["userdel", "ao_bob"])
    assert system.shadow("ao_bob") is None
    assert system.passwd_entry("ao_bob") is None
    assert "ao_bob:" not in (system.etc / "group").read_text()
    assert not host_has_user("ao_bob")


def test_failed_command_shows_its_output(system):
    with pytest.raises(rootenv.CommandFailed) as e:
        system.run(["sh", "-c", "echo to-out; echo to-err >&2; exit 3"])
    assert e.value.returncode == 3
    assert "to-out" in str(e.value) and "to-err" in str(e.value)
    p = system.run(["false"], check=False)
    assert p.returncode == 1


def test_pamtester_acct_mgmt(system):
    write_pam_service(system, "ao-test", UNIX_ACCOUNT)
    system.useradd("ao_carol", password="Secret-3")
    p = pamtester(system, "ao-test", "ao_carol", "acct_mgmt")
    assert p.returncode == 0, p.stderr
    system.run(["usermod", "-e", "2020-01-01", "ao_carol"])
    p = pamtester(system, "ao-test", "ao_carol", "acct_mgmt")
    assert p.returncode != 0
    assert "expired" in p.stderr
    # the service file exists only in the copy
    assert not os.path.exists("/etc/pam.d/ao-test")


def test_extra_binds(system, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    system.extra_binds.append((str(outside), "/run/ao-extra"))
    system.extra_binds.append((str(outside), "/etc/accessowl-extra"))
    system.run(["sh", "-c", "echo hi > /run/ao-extra/f; "
                "cat /etc/accessowl-extra/f"])
    assert (outside / "f").read_text() == "hi\n"
    assert not os.path.exists("/etc/accessowl-extra")
    with pytest.raises(FileNotFoundError):
        system.extra_binds.append((str(outside), "/no/such/ao-dir"))
        system.run(["true"])


def test_syslog_capture(tmp_path):
    need_root()
    rootenv.require("unshare", "logger")
    with PrivateSystem(tmp_path, syslog=True) as s:
        s.run(["logger", "-p", "authpriv.warning", "-t", "ao-test",
               "degraded: \x01control"])
        recs = [r for r in s.syslog() if r.ident == "ao-test"]
        assert len(recs) == 1
        assert recs[0].facility == rootenv.LOG_AUTHPRIV
        assert recs[0].severity == rootenv.LOG_WARNING
        assert "degraded" in recs[0].message


def namespace_pids(ns):
    return [p for p in os.listdir("/proc")
            if p.isdigit() and rootenv._mnt_ns(p) == ns]


def port_open(port):
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_sshd_key_login_with_permissive_pam(system):
    write_pam_service(system, "sshd", PERMIT_ALL)
    system.useradd("ao_dave", password="Secret-4")
    port = free_port()
    with Sshd(system, port) as sshd:
        key = sshd.add_key("ao_dave")
        rc, out, err, secs = sshd.login("ao_dave", key, "id -un; pwd")
        assert rc == 0, sshd.log()
        assert out.split() == ["ao_dave", "/home/ao_dave"]
        assert secs < 10
        ns = sshd.ns
        assert ns and namespace_pids(ns)
        # an unknown key is refused
        other = sshd.add_key("ao_nobody")
        rc, _, _, _ = sshd.login("ao_dave", other)
        assert rc == 255
    assert not sshd.running()
    assert not namespace_pids(ns)
    assert not port_open(port)
    assert "Accepted publickey for ao_dave" in sshd.log()


def test_sshd_locked_user_still_logs_in_under_pam_unix(system):
    """The trap in design.md: pam_unix's account hook ignores '!'."""
    write_pam_service(system, "sshd", UNIX_ACCOUNT)
    system.useradd("ao_erin", password="Secret-5")
    system.run(["usermod", "-L", "ao_erin"])
    assert system.shadow("ao_erin")[1].startswith("!$")
    with Sshd(system, free_port()) as sshd:
        key = sshd.add_key("ao_erin")
        rc, out, err, _ = sshd.login("ao_erin", key, "echo in")
        assert rc == 0, sshd.log()
        assert out == "in\n"


def test_sshd_expired_user_is_refused_by_pam_unix(system):
    write_pam_service(system, "sshd", UNIX_ACCOUNT)
    system.useradd("ao_frank", password="Secret-6")
    system.run(["usermod", "-e", "2020-01-01", "ao_frank"])
    with Sshd(system, free_port()) as sshd:
        key = sshd.add_key("ao_frank")
        rc, out, err, _ = sshd.login("ao_frank", key, "echo in")
        assert rc == 255 and out == ""
        assert "Access denied for user ao_frank by PAM account" in sshd.log()


def test_sshd_uses_the_named_pam_service(system):
    # "sshd" would refuse everyone; the named service lets them in
    write_pam_service(system, "sshd", ["account required pam_deny.so"])
    write_pam_service(system, "ao-sshd", PERMIT_ALL)
    system.useradd("ao_gina")
    with Sshd(system, free_port(), pam_service="ao-sshd",
              extra_config="LogLevel DEBUG1\n") as sshd:
        key = sshd.add_key("ao_gina")
        rc, _, _, _ = sshd.login("ao_gina", key)
        assert rc == 0, sshd.log()
        assert "debug1:" in sshd.log()      # extra_config overrides defaults
    with Sshd(system, free_port()) as sshd:
        key = sshd.add_key("ao_gina")
        rc, _, _, _ = sshd.login("ao_gina", key)
        assert rc == 255
