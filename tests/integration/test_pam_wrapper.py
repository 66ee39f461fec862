"""The module through real libpam and pamtester, without root."""
import json
import time
import subprocess

import pytest

from pamwrap import HASH, PamWorld, wait_for
from worlds import FLEET_REASON, filed_for, people


@pytest.fixture
def world(fake, env):
    f = fake(people("alice", "bob", "carol", "dave", "erin"))
    e = env(f, identity='email_domain = "example.com";',
            extra="accounts: { min_uid = 1000; };")
    w = PamWorld(e)
    w.add_user("alice", "!" + HASH, 2001)     # locked
    w.add_user("bob", "!", 2002)               # created without a password
    w.add_user("carol", HASH, 2003)            # fine
    w.add_user("dave", "!!", 2004)             # never had a password (RHEL)
    w.add_user("erin", HASH, 2005, expire="1")  # expired in 1970
    return f, e, w


def outcome(p):
    return p.returncode, p.stdout, p.stderr


def test_locked_user_is_revoked(world):
    f, e, w = world
    p, secs = w.pamtester(w.service("svc"), "alice")
    assert p.returncode == 0, p.stderr
    assert wait_for(lambda: len(filed_for(f, "alice")) == 2), \
        subprocess.run([w.wrapper, "-c", str(e.config_path), "status"],
                       capture_output=True, text=True).stdout
    assert len(f.posts()) == 2
    # the same body on every host of a fleet: one key, one revocation
    assert json.loads(f.posts()[0]["body"])["reason"] == FLEET_REASON
    assert w.spawn_count() == 1


def test_expired_user_is_revoked(world):
    f, e, w = world
    p, _ = w.pamtester(w.service("svc"), "erin")
    assert p.returncode == 0
    assert wait_for(lambda: len(filed_for(f, "erin")) == 2)
    assert json.loads(f.posts()[0]["body"])["reason"] == FLEET_REASON


@pytest.mark.parametrize("user", ["bob", "dave", "carol", "nosuchuser"])
def test_not_locked_users_lead_to_nothing(world, user):
    f, e, w = world
    p, _ = w.pamtester(w.service("svc"), user)
    assert w.spawn_count() == 0
    assert f.requests() == []
    assert not any((e.spool / "queue").glob("*.json")) \
        if (e.spool / "queue").exists() else True


@pytest.mark.parametrize("user", ["alice", "bob", "carol", "erin", "nosuchuser"])
@pytest.mark.parametrize("final", ["pam_permit.so", "pam_deny.so"])
def test_pam_result_is_the_same_with_and_without_the_module(world, user, final):
    f, e, w = world
    with_mod, _ = w.pamtester(w.service("svc-a", True, final), user)
    without, _ = w.pamtester(w.service("svc-b", False, final), user)
    assert with_mod.returncode == without.returncode
    assert with_mod.stdout.replace("svc-a", "SVC") == \
        without.stdout.replace("svc-b", "SVC")


def test_many_attempts_one_spawn(world):
    f, e, w = world
    svc = w.service("svc")
    for _ in range(30):
        p, _ = w.pamtester(svc, "alice", "acct_mgmt")
        assert p.returncode == 0
    assert w.spawn_count() == 1
    assert wait_for(lambda: len(filed_for(f, "alice")) == 2)
    assert len(f.posts()) == 2


def test_login_fast_while_accessowl_hangs(world):
    f, e, w = world
    f.faults([{"method": "*", "path": "/api/v1/", "action": "hang",
               "seconds": 30, "count": 100}])
    p, secs = w.pamtester(w.service("svc"), "alice")
    assert p.returncode == 0
    assert secs < 1.0, secs
    assert w.spawn_count() == 1


def test_helper_gets_empty_environment_and_no_fds(world):
    f, e, w = world
    p, _ = w.pamtester(w.service("svc"), "alice")
    assert w.spawn_count() == 1
    env = dict(l.split("=", 1) for l in w.childenv.read_text().splitlines())
    assert set(env) <= {"PWD"}, env  # PWD is set by the shell itself
    for l in w.childfds.read_text().splitlines()[1:]:
        fd, target = l.split()[-3], l.split()[-1]
        assert target in ("/dev/null", str(w.wrapper), str(w.childfds)), l


VALGRIND = ["valgrind", "--error-exitcode=99", "--leak-check=full",
            "--show-leak-kinds=definite,indirect,possible",
            "--errors-for-leak-kinds=definite,indirect,possible",
            "--num-callers=30"]


@pytest.mark.parametrize("user", ["alice", "carol", "bob", "nosuchuser"])
def test_module_under_valgrind(world, user):
    """memcheck over pamtester with the module loaded: no errors, no leaks
    (pamtester and libpam free everything, so any leak is ours)."""
    f, e, w = world
    p, _ = w.pamtester(w.service("svc"), user, "acct_mgmt", "open_session",
                       "close_session", prefix=VALGRIND)
    assert p.returncode == 0, p.stderr
    assert "ERROR SUMMARY: 0 errors" in p.stderr
    assert "All heap blocks were freed" in p.stderr
    # the observed path really ran: a spawn for the locked user only
    assert w.spawn_count() == (1 if user == "alice" else 0)


def test_broken_helper_is_started_at_most_once_a_minute(world):
    """A helper that fails (here: a config error) leaves no episode record;
    the module must still not start it on every attempt."""
    f, e, w = world
    e.config_path.write_text(e.config_path.read_text() + "\nbogus = 1;\n")
    svc = w.service("svc")
    for _ in range(30):
        p, _ = w.pamtester(svc, "alice", "acct_mgmt")
        assert p.returncode == 0
    assert w.spawn_count() == 1
    assert f.requests() == []


def helper_cmd(w, e, *args):
    """Run the helper as the module would (through the NSS wrapper)."""
    return subprocess.run([str(w.wrapper), "-c", str(e.config_path)] +
                          list(args), capture_output=True, text=True,
                          timeout=60)


def queued_events(e):
    q = e.spool / "queue"
    return sorted(q.glob("*.json")) if q.exists() else []


@pytest.mark.parametrize("user,event", [("carol", "locked"),
                                        ("bob", "locked"),
                                        ("carol", "expired"),
                                        ("alice", "expired"),
                                        ("nosuchuser", "locked"),
                                        ("alice", "deleted")])
def test_enqueue_does_not_trust_its_caller(world, user, event):
    f, e, w = world
    p = helper_cmd(w, e, "enqueue", "--user", user, "--event", event)
    assert p.returncode == 65, p.stderr
    assert queued_events(e) == []
    assert f.requests() == []


@pytest.mark.parametrize("extra", [
    "accounts: { min_uid = 3000; };",
    'accounts: { exclude = [ "root", "alice" ]; };',
    "events: { locked = false; };",
])
def test_policy_not_managed_is_not_queued_and_not_respawned(fake, env, extra):
    f = fake(people("alice"))
    e = env(f, identity='email_domain = "example.com";', extra=extra)
    w = PamWorld(e)
    w.add_user("alice", "!" + HASH, 2001)
    svc = w.service("svc")
    for _ in range(10):
        w.pamtester(svc, "alice", "acct_mgmt")
    assert w.spawn_count() == 1       # the episode is recorded all the same
    assert queued_events(e) == []
    time.sleep(0.3)
    assert f.requests() == []


def test_usage_errors(world):
    f, e, w = world
    for args in (["enqueue", "--user", "alice"],
                 ["enqueue", "--user", "alice", "--event", "frozen"],
                 ["enqueue", "--user", "../etc", "--event", "locked"],
                 ["deliver", "extra"], ["status", "--xml"]):
        assert helper_cmd(w, e, *args).returncode == 64, args
