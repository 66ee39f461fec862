"""Trust boundaries (design.md): only the administrator decides whose access
is revoked; the service user, assumed compromised, can never steer root;
nothing a file, a user or a server wrote reaches a terminal raw; a hostile
server cannot make the deliverer allocate without bound.

Each test performs the attack and asserts that it fails.  Hard links are
made as root, standing in for a service user on a host with
fs.protected_hardlinks=0 (the kernel's default).
"""
import json
import os
import re
import stat
import subprocess
import time

import pytest

from conftest import HELPER, check_failures, need_root
from harness import SVC_GID, uuid
from pamwrap import wait_for
from rootenv import clean_env, pamtester, require, write_pam_service
from test_pam_root import Host, write_tally
from worlds import filed_for, people

SVC_UID = 65534                   # nobody: the tests' service user
ESCAPES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")
OSC52 = "\x1b]52;c;cm0gLXJmIH4=\x07"   # a clipboard write
CLEAR = "\x1b[2J\x1b[H"               # clear the screen
GECOS_ON = 'gecos_email = true; gecos_domains = [ "example.com" ];'


def no_escapes(text):
    bad = ESCAPES.findall(text)
    assert not bad, f"control bytes reached the terminal: {bad!r}"


def svc_dir(path):
    path.mkdir(mode=0o700, exist_ok=True)
    os.chown(path, SVC_UID, SVC_GID)
    return path


def status(host):
    return json.loads(host.helper("status", "--json").stdout)


def helper(host, *args):
    """The helper inside the host's namespace (its passwd, its shadow)."""
    return host.sys.run([HELPER, "-c", host.e.config_path] + list(args),
                        check=False, timeout=120)


@pytest.fixture
def trust_host(fake, env, tmp_path, request):
    require()
    names = getattr(request, "param", ("alice", "bob", "mallory", "eve", "ceo"))
    f = fake(people(*names))
    e = env(f, identity='email_domain = "example.com";')
    h = Host(tmp_path, f, e)
    yield h
    h.sys.close()


# ---- 1. a user chooses whose access is revoked ------------------------------

def test_chfn_cannot_choose_whose_access_is_revoked(trust_host, certs):
    """A leaver writes the CEO's address into the GECOS room field (Debian:
    CHFN_RESTRICT rwh) and is locked: only the leaver's access goes."""
    h = trust_host
    h.e.write_config(h.f, certs, identity=GECOS_ON)
    s = h.sys
    defs = s.etc / "login.defs"
    text = re.sub(r"(?m)^\s*CHFN_RESTRICT.*$", "", defs.read_text())
    defs.write_text(text + "\nCHFN_RESTRICT rwh\n")
    # users run chfn without a password in this private copy
    write_pam_service(s, "chfn", ["auth required pam_permit.so",
                                  "account required pam_permit.so",
                                  "session required pam_permit.so"])
    # the administrator set mallory's address in "other"; eve has none
    s.useradd("mallory", password="pw-m", gecos="Mallory,,,,mallory@example.com")
    s.useradd("eve", password="pw-e", gecos="Eve")
    for user in ("mallory", "eve"):
        s.run(["setpriv", f"--reuid={user}", f"--regid={user}",
               "--init-groups", "chfn", "-r", "ceo@example.com"])
        assert s.passwd_entry(user)[4].split(",")[1] == "ceo@example.com"
        s.run(["usermod", "-L", user])
        p, _ = h.attempt(user)
        assert p.returncode == 0
    assert wait_for(lambda: len(filed_for(h.f, "mallory")) == 2)
    assert wait_for(lambda: any(ev["user"] == "eve" and ev["queue"] == "parked"
                                for ev in status(h)))
    time.sleep(0.5)
    assert filed_for(h.f, "ceo") == []
    assert not any("ceo" in (r["query"].get("email") or "")
                   for r in h.f.requests())
    [mallory] = [ev for ev in status(h) if ev["user"] == "mallory"]
    assert mallory["email"] == "mallory@example.com"


def test_a_remembered_address_never_changes_silently(trust_host, certs):
    """GECOS (trusted fields, but GECOS) later names someone else: the event
    waits, parked, with the remembered address, until the administrator
    decides with identity.map."""
    h = trust_host
    h.e.write_config(h.f, certs, identity=GECOS_ON)
    s = h.sys
    s.useradd("alice", password="pw-a", gecos="Alice,,,,alice@example.com")
    s.run(["usermod", "-L", "alice"])
    h.attempt("alice")
    assert wait_for(lambda: len(filed_for(h.f, "alice")) == 2)
    s.run(["usermod", "-U", "alice"])
    h.attempt("alice")                       # seen fine: the episode ends
    s.run(["usermod", "-c", "Alice,,,,ceo@example.com", "alice"])
    s.run(["usermod", "-L", "alice"])
    h.attempt("alice")
    assert wait_for(lambda: any(ev["queue"] == "parked" for ev in status(h)))
    [parked] = [ev for ev in status(h) if ev["queue"] == "parked"]
    assert parked["email"] == "alice@example.com"        # never the new one
    assert parked["email_unconfirmed"] == "ceo@example.com"
    assert "identity.map" in parked["error"]
    text = h.helper("status").stdout
    assert "ceo@example.com" in text and "alice@example.com" in text
    # retrying alone decides nothing
    assert helper(h, "deliver", "--retry-parked").returncode == 0
    assert [ev["queue"] for ev in status(h)].count("parked") == 1
    assert filed_for(h.f, "ceo") == [] and len(filed_for(h.f, "alice")) == 2
    # the administrator decides
    h.e.write_config(h.f, certs, identity=GECOS_ON + ' map = ( { user = '
                     '"alice"; email = "alice@example.com"; } );')
    assert helper(h, "deliver", "--retry-parked").returncode == 0
    assert [ev["queue"] for ev in status(h)] == ["delivered", "delivered"]
    assert len(filed_for(h.f, "alice")) == 2   # still pending: not again
    assert filed_for(h.f, "ceo") == []


@pytest.mark.parametrize("trust_host", [("alice", "bob", "ceo")],
                         indirect=True)
def test_faillock_forgery_only_ever_revokes_its_author(trust_host, certs):
    """pam_faillock gives each user their tally file: bob can forge his own
    lockout (and only revokes himself), not alice's."""
    h = trust_host
    h.e.write_config(h.f, certs, identity='email_domain = "example.com";',
                     extra="events: { faillock = true; };")
    s = h.sys
    (s.etc / "security" / "faillock.conf").write_text(
        "deny = 3\nfail_interval = 900\nunlock_time = 600\n")
    for n in ("alice", "bob"):
        s.useradd(n, password="pw-" + n, gecos=f"{n},ceo@example.com")
    now = time.time()
    locked = [now - 30, now - 20, now - 10]
    write_tally(h, "bob", locked)             # bob's forged lockout ...
    tallies = s.run_dir / "faillock"
    bob_uid = int(s.passwd_entry("bob")[2])
    os.chown(tallies / "bob", bob_uid, bob_uid)   # ... in his own file
    # bob's file under alice's name (a link bob could make where
    # protected_hardlinks=0 and he could write the directory)
    os.link(tallies / "bob", tallies / "alice")
    for _ in range(3):
        for n in ("alice", "bob"):
            assert h.attempt(n)[0].returncode == 0
    assert wait_for(lambda: len(filed_for(h.f, "bob")) == 2)
    time.sleep(0.5)
    assert filed_for(h.f, "alice") == [] and filed_for(h.f, "ceo") == []
    # a tally directory others may write proves nothing at all
    os.unlink(tallies / "alice")
    write_tally(h, "alice", locked)
    os.chmod(tallies, 0o1777)
    for _ in range(3):
        h.attempt("alice")
    time.sleep(0.5)
    assert filed_for(h.f, "alice") == []


# ---- 2. the service user steers root ----------------------------------------

def test_module_and_enqueue_ignore_what_the_service_user_planted(trust_host):
    """A compromised service user prepares its state directory: a hard link
    to a root file where the module kept its spawn stamps, a FIFO where the
    helper keeps episodes, a symlink to shadow where it remembers people."""
    h = trust_host
    s, state = h.sys, h.e.state
    victim = s.etc / "accessowl-victim"
    victim.write_text("precious\n")
    svc_dir(state / "spawned")
    os.link(victim, state / "spawned" / "alice")
    svc_dir(state / "episodes")
    os.mkfifo(state / "episodes" / "alice")
    svc_dir(state / "people")
    os.symlink("/etc/shadow", state / "people" / "alice")
    s.useradd("alice", password="pw-a", gecos="Alice,,,,alice@example.com")
    s.run(["usermod", "-L", "alice"])
    for _ in range(3):
        p, secs = h.attempt("alice")
        assert p.returncode == 0
    assert wait_for(lambda: len(filed_for(h.f, "alice")) == 2)
    assert victim.read_text() == "precious\n"
    assert os.stat(victim).st_uid == 0
    [ev] = status(h)
    assert ev["email"] == "alice@example.com"
    assert not any(":" in (r["query"].get("email") or "")
                   for r in h.f.requests())
    assert h.spawn_count() == 1
    # the module's own records: root's, where the service user cannot go
    rd = s.run_dir / "accessowl"
    st = os.stat(rd)
    assert st.st_uid == 0 and stat.S_IMODE(st.st_mode) == 0o700
    assert (rd / "alice").read_text().startswith("locked:")
    for p in state.rglob("*"):
        assert os.lstat(p).st_uid == SVC_UID or p == state / "spawned" / "alice", p


def test_the_module_keeps_no_record_where_others_can_write(trust_host):
    """run_dir= naming the service user's directory is refused: the module
    then starts the helper at every attempt (which queues once) and writes
    nothing there."""
    h = trust_host
    s, state = h.sys, h.e.state
    from pamwrap import MODULE
    args = f"{h.args} run_dir={state}/records"
    write_pam_service(s, "aoweird", [
        "auth required pam_permit.so",
        f"account optional {MODULE} {args}",
        "account required pam_permit.so"])
    s.useradd("alice", password="pw-a", gecos="Alice,,,,alice@example.com")
    s.run(["usermod", "-L", "alice"])
    for _ in range(3):
        assert pamtester(s, "aoweird", "alice", "acct_mgmt").returncode == 0
    assert h.spawn_count() == 3
    assert wait_for(lambda: len(filed_for(h.f, "alice")) == 2)
    assert len(status(h)) == 1
    assert not (state / "records").exists()
    assert all(os.lstat(p).st_uid == SVC_UID for p in state.rglob("*"))


def test_a_fifo_in_the_state_directory_blocks_nothing(trust_host):
    h = trust_host
    s, state = h.sys, h.e.state
    for sub in ("people", "episodes", "accounts"):
        svc_dir(state / sub)
        os.mkfifo(state / sub / "bob")
        os.chown(state / sub / "bob", SVC_UID, SVC_GID)
    s.useradd("bob", password="pw-b", gecos="Bob,,,,bob@example.com")
    s.run(["usermod", "-L", "bob"])
    # blocked, these would never return: the timeouts fail the test
    p = s.run([HELPER, "-c", h.e.config_path, "enqueue", "--user", "bob",
               "--event", "locked"], check=False, timeout=30)
    assert p.returncode == 0, p.stderr
    p = s.run([HELPER, "-c", h.e.config_path, "scan"], check=False,
              timeout=60)
    assert p.returncode == 0, p.stderr
    assert wait_for(lambda: len(filed_for(h.f, "bob")) == 2)


STRACE_CALLS = ("open,openat,mkdir,mkdirat,unlink,unlinkat,rename,renameat,"
                "renameat2,chown,fchownat,lchown,link,linkat,symlink,"
                "symlinkat,access,faccessat,faccessat2,setresuid,clone,clone3,"
                "fork,vfork")
SYSCALL = re.compile(r"^(\w+)\((.*)\)\s+=\s+(-?\d+)")


def root_touches(prefix, dirs):
    """Syscalls made as root inside dirs, or chowning them by name, from
    strace -ff -y output files prefix.PID (one per process)."""
    files = {int(p.name.rsplit(".", 1)[1]): p.read_text().splitlines()
             for p in prefix.parent.glob(prefix.name + ".*")}
    children = {}
    for pid, lines in files.items():
        for line in lines:
            m = SYSCALL.match(line)
            if m and m.group(1) in ("clone", "clone3", "fork", "vfork") \
                    and int(m.group(3)) > 0:
                children[int(m.group(3))] = pid
    bad = []

    def walk(pid, dropped):
        for line in files.get(pid, []):
            m = SYSCALL.match(line)
            if not m:
                continue
            call, args, ret = m.group(1), m.group(2), int(m.group(3))
            if call in ("clone", "clone3", "fork", "vfork"):
                if ret > 0:
                    walk(ret, dropped)
                continue
            if call == "setresuid":
                dropped = dropped or (ret == 0 and not args.startswith("0,"))
                continue
            if dropped:
                continue
            paths = [fd + "/" + name for fd, name in
                     re.findall(r'\d+<([^>]*)>,\s*"([^"/][^"]*)"', args)]
            paths += re.findall(r'"(/[^"]*)"', args)
            for p in paths:
                for d in dirs:
                    if p.startswith(d + "/") or (
                            p == d and call in ("chown", "fchownat", "lchown")):
                        bad.append(f"{pid} {line}")

    for pid in files:
        if pid not in children:
            walk(pid, False)
    return bad


@pytest.mark.parametrize("cmd", [
    ("enqueue", "--user", "alice", "--event", "locked"),
    ("scan",), ("deliver", "--now"), ("status",),
    ("revoke", "--user", "alice"), ("check",)])
def test_root_acts_in_the_service_users_directories_only_after_the_drop(
        trust_host, cmd):
    h = trust_host
    s = h.sys
    s.useradd("alice", password="pw-a", gecos="Alice,,,,alice@example.com")
    s.run(["usermod", "-L", "alice"])
    # subdirectories and records the command will read, write or make
    helper(h, "scan")
    out = h.e.tmp / "strace" / "trace"
    out.parent.mkdir()
    # (LeakSanitizer, in `make asan`, cannot work under ptrace)
    p = s.run(["strace", "-ff", "-y", "-qq", "-s", "512", "-e",
               "trace=" + STRACE_CALLS, "-o", out, HELPER, "-c",
               h.e.config_path] + list(cmd), check=False, timeout=120,
              env=clean_env(ASAN_OPTIONS="detect_leaks=0"))
    if cmd == ("check",):    # neither systemd nor cron starts them here
        assert check_failures(p) == [], p.stdout
    else:
        assert p.returncode == 0, p.stderr
    traces = "".join(f.read_text() for f in out.parent.iterdir())
    assert re.search(r"setresuid\(65534, 65534, 65534\)\s+= 0", traces)
    assert str(h.e.spool) in traces or str(h.e.state) in traces
    bad = root_touches(out, [str(h.e.spool), str(h.e.state)])
    assert not bad, "as root:\n" + "\n".join(bad)


def test_where_systemd_runs_enqueue_starts_no_deliverer(trust_host):
    """Where systemd runs, accessowl-deliver.path delivers (in its sandbox
    and memory limit); a deliverer started from the PAM stack would run in
    the login service's cgroup."""
    h = trust_host
    s = h.sys
    (s.run_dir / "systemd" / "system").mkdir(parents=True)
    s.useradd("alice", password="pw-a", gecos="Alice,,,,alice@example.com")
    s.run(["usermod", "-L", "alice"])
    h.attempt("alice")
    assert wait_for(lambda: len(status(h)) == 1)
    time.sleep(2)
    assert h.f.requests() == []
    assert status(h)[0]["queue"] == "queued"
    # (without /run/systemd/system the enqueue starts one: every other test)


def test_check_reads_what_the_service_user_will_need(fake, env):
    need_root()
    from test_revoke import start
    f, e = start(fake, env, user="nobody")
    assert check_failures(e.run("check")) == []
    os.chown(e.token_path, 0, 0)
    os.chmod(e.token_path, 0o600)          # root can read it; nobody cannot
    p = e.run("check")
    assert p.returncode != 0, p.stdout + p.stderr
    assert len(check_failures(p)) == 1, p.stdout
    assert f"FAILED: the service user nobody cannot read token file " \
           f"{e.token_path}" in p.stdout
    assert "chmod g+r" in p.stdout


# ---- 3. terminal escapes ----------------------------------------------------

def event_file(e, name, event="locked", error=OSC52, title=CLEAR):
    ev = {"version": 1, "id": "ab" * 16, "user": name, "uid": 1001,
          "event": event, "episode": "locked:1", "email": f"{name}@example.com",
          "email_source": "GECOS", "host": "h" + CLEAR, "service": "sshd",
          "rhost": "", "created": int(time.time()), "next_attempt": 0,
          "last_attempt": 0, "attempts": 1, "person_id": None, "listed": True,
          "error": error,
          "states": [{"id": "s1", "application_id": None,
                      "application_title": title, "idempotency_key": "k",
                      "status": "failed", "revocation_id": None,
                      "revocation_status": OSC52, "error": CLEAR}]}
    return json.dumps(ev)


def test_status_prints_nothing_raw_from_the_spool(fake, env):
    f = fake(people("alice"))
    e = env(f, identity='email_domain = "example.com";')
    assert e.run("status").returncode == 0          # makes the spool
    e.run("deliver")
    for q in ("queue", "parked"):
        d = e.spool / q
        d.mkdir(exist_ok=True)
    (e.spool / "parked" / "0000000001-a.json").write_text(
        event_file(e, "alice"))
    (e.spool / "parked" / "0000000002-b.json").write_text(
        event_file(e, "bob", event="locked" + OSC52))
    for p in (e.spool / "parked").iterdir():
        if os.geteuid() == 0:
            os.chown(p, SVC_UID, SVC_GID)
    for args in (("status",), ("status", "--json")):
        p = e.run(*args)
        assert p.returncode == 0, p.stderr
        no_escapes(p.stdout)
        no_escapes(p.stderr.replace("\n", ""))
    assert "alice" in e.run("status").stdout
    assert "]52;c;" in e.run("status").stdout        # shown, defused


def test_revoke_prints_nothing_raw_from_the_server(fake, env):
    from test_revoke import start
    f, e = start(fake, env)
    f.faults([{"method": "POST", "path": "/api/v1/access_revocations",
               "action": "body", "status": 201, "when": "after", "count": 10,
               "body": {"data": {"id": "rev-1", "status": OSC52 + CLEAR,
                                 "application_id": "app-1"}}}])
    p = e.run("revoke", "--user", "alice")
    assert p.returncode == 0, p.stderr
    assert "filed\t" in p.stdout and "]52;c;" in p.stdout
    no_escapes(p.stdout)


def test_scan_dry_run_prints_nothing_raw_from_a_record(trust_host):
    h = trust_host
    s = h.sys
    s.useradd("alice", password="pw-a", gecos="Alice,,,,alice@example.com")
    helper(h, "scan")
    rec = h.e.state / "scan.state"
    assert rec.read_text().startswith("accessowl-scan 2\n")
    rec.write_text("accessowl-scan 2\nalice\t1001\tlocked" + CLEAR +
                   "\tlocked:1\tlogin\talice@example.com" + OSC52 + "\n")
    p = helper(h, "scan", "--dry-run")
    assert p.returncode == 0, p.stderr
    no_escapes(p.stdout)
    no_escapes(p.stderr.replace("\n", ""))


# ---- 4. a hostile server ----------------------------------------------------

def hostile_world(n_states):
    w = people("alice")
    w["generate"] = {"access_states": {"count": n_states, "ended_fraction": 1.0,
                                       "grantee_user_id": uuid("person-alice"),
                                       "seed": "hostile"}}
    return w


def test_a_listing_is_bounded_in_rows(fake, env):
    f = fake(hostile_world(10050))
    e = env(f, identity='email_domain = "example.com";')
    p = e.run("revoke", "--user", "alice")
    assert p.returncode != 0
    assert "more than 10000 rows" in p.stderr
    assert f.posts() == []
    [ev] = json.loads(e.run("status", "--json").stdout)
    assert ev["queue"] == "queued"              # kept, retried later


def test_a_listing_is_bounded_in_bytes(fake, env):
    f = fake(hostile_world(400))
    e = env(f, identity='email_domain = "example.com";')
    # 100 rows of 60 kB a page: each page under the 8 MiB body cap
    f.faults([{"method": "GET", "path": "/api/v1/access_states",
               "action": "bloat", "bytes": 60000, "count": 100}])
    p = e.run("revoke", "--user", "alice")
    assert p.returncode != 0
    assert "more than 16 MiB" in p.stderr
    assert f.posts() == []
    gets = [r for r in f.requests() if r["path"] == "/api/v1/access_states"]
    assert len(gets) == 3                       # stopped at the third page
