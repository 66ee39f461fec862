"""The helper under faults: what really failed is said, and a fault is
never taken for an answer.

Faults are real: strace's -e inject= on the helper's own system calls."""
import glob
import os
import subprocess

from conftest import HELPER
from rootenv import require
from worlds import people


def strace(e, inject, paths, *args):
    """The helper under strace: each of inject ("openat:error=EMFILE", ...)
    on the system calls of paths (-P: on those files, or relative to those
    directories).  Not the deliverer an enqueue starts: it is not
    followed."""
    require("strace")
    cmd = ["strace", "-qq", "-o", "/dev/null"]
    for i in inject:
        cmd += ["-e", "inject=" + i]
    for p in paths:
        cmd += ["-P", str(p)]
    cmd += [HELPER, "-c", str(e.config_path)] + list(args)
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")  # no LSan in ptrace
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                          env=env)


def nss_sources():
    """/etc/passwd and the NSS module that would answer after it, by the
    names the dynamic loader opens them (strace -P matches them so)."""
    return ["/etc/passwd"] + glob.glob("/lib/*/libnss_systemd.so.2") + \
        glob.glob("/usr/lib/*/libnss_systemd.so.2")


def test_a_failed_service_user_lookup_is_not_a_missing_user(fake, env):
    """The process is out of descriptors (EMFILE) when it looks the service
    user up: that is no answer, and not "does not exist; create it"."""
    f = fake(people("alice"))
    e = env(f, identity='email_domain = "example.com";')
    p = strace(e, ["openat:error=EMFILE"], nss_sources(), "status")
    assert p.returncode == 75, (p.returncode, p.stderr)
    assert "cannot look up user 'nobody' now: Too many open files; " \
        "nothing was decided: try again" in p.stderr, p.stderr
    assert "does not exist" not in p.stderr
    assert e.run("status").returncode == 0


def test_an_fsync_error_is_reported_as_what_it_is(fake, env):
    f = fake(people("alice"))
    e = env(f, identity='email_domain = "example.com";')
    assert e.run("deliver").returncode == 0       # makes the spool
    p = strace(e, ["fsync:error=EIO"], [e.spool / "queue"], "enqueue",
               "--user", "gone", "--event", "deleted")
    assert p.returncode != 0
    assert "to the spool (queue): Input/output error" in p.stderr, p.stderr
    assert "No such file or directory" not in p.stderr
