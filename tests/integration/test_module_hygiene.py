"""What pam_accessowl leaves behind in its host process, and what it is
made of: SIGCHLD, children, fds, threads, the bounded wait, the symbols."""
import json
import os
import subprocess

import pytest

from harness import ROOT
from pamwrap import HASH, MODULE, PamWorld

PAMHOST = ROOT / "build" / "tests" / "pamhost"


@pytest.fixture
def world(fake, env):
    from worlds import people
    f = fake(people("alice"))
    e = env(f, identity='email_domain = "example.com";')
    w = PamWorld(e)
    w.add_user("alice", "!" + HASH, 2001)
    w.add_user("carol", HASH, 2003)
    return f, e, w


def host(w, service, user, sigchld="handler", prefix=(), env=None):
    env = env or w.pam_env()
    # pam_start_confdir reads the directory itself; an inactive pam_wrapper
    # in LD_PRELOAD would make it hang
    env.pop("PAM_WRAPPER", None)
    env["LD_PRELOAD"] = " ".join(x for x in env["LD_PRELOAD"].split()
                                 if "pam_wrapper" not in x)
    p = subprocess.run(list(prefix) + [str(PAMHOST), str(w.services), service,
                       user, sigchld], env=env, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


@pytest.mark.parametrize("sigchld", ["handler", "ignore"])
@pytest.mark.parametrize("user", ["alice", "carol"])
def test_nothing_left_behind(world, sigchld, user):
    f, e, w = world
    r = host(w, w.service("svc"), user, sigchld)
    assert w.spawn_count() == (1 if user == "alice" else 0)
    assert r["acct"] == r["open"] == r["close"] == 0  # PAM_SUCCESS
    assert r["sigchld_restored"] is True
    assert r["chld_calls"] == 0      # no SIGCHLD for a child it never had
    assert r["children"] == 0        # no zombie, nothing left to reap
    assert r["fds_after"] == r["fds_before"]
    assert r["threads"] == 1


def test_slow_helper_is_killed_after_the_bounded_wait(world, tmp_path):
    f, e, w = world
    marker = tmp_path / "slow-started"
    slow = w.dir / "slow.sh"
    slow.write_text(f"#!/bin/sh\ntouch {marker}\nexec sleep 30\n")
    os.chmod(slow, 0o755)
    svc = w.services / "slow"
    svc.write_text((w.services / w.service("svc")).read_text()
                   .replace(str(w.wrapper), str(slow)))
    r = host(w, "slow", "alice")
    assert marker.exists()
    # one wait of 1 s in the account stack (the session stack is held back
    # by the spawn bound for the same episode)
    assert 950 <= r["ms"] < 1900, r
    assert r["children"] == 0 and r["sigchld_restored"]
    out = subprocess.run(["pgrep", "-f", str(slow)], capture_output=True)
    assert out.returncode == 1, "the slow helper is still running"


def test_non_root_caller_is_ignored(world):
    f, e, w = world
    env = w.pam_env()
    env.pop("UID_WRAPPER_ROOT")
    env.pop("UID_WRAPPER")
    env["LD_PRELOAD"] = " ".join(x for x in env["LD_PRELOAD"].split()
                                 if "uid_wrapper" not in x)
    prefix = ()
    if os.geteuid() == 0:
        prefix = ("setpriv", "--reuid=65534", "--regid=65534",
                  "--clear-groups")
    r = host(w, w.service("svc"), "alice", prefix=prefix, env=env)
    assert r["acct"] == 0
    assert w.spawn_count() == 0


def test_exports_only_pam_entry_points_and_links_only_libpam_and_libc():
    syms = subprocess.run(["nm", "-D", "--defined-only", MODULE],
                          capture_output=True, text=True, check=True).stdout
    names = sorted(l.split()[-1] for l in syms.splitlines() if l.strip())
    assert names == sorted(["pam_sm_acct_mgmt", "pam_sm_open_session",
                            "pam_sm_close_session", "pam_sm_authenticate",
                            "pam_sm_setcred", "pam_sm_chauthtok"])
    dyn = subprocess.run(["readelf", "-d", MODULE], capture_output=True,
                         text=True, check=True).stdout
    needed = sorted(l.split("[")[1].rstrip("]") for l in dyn.splitlines()
                    if "(NEEDED)" in l)
    assert needed == ["libc.so.6", "libpam.so.0"]
