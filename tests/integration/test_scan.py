"""scan: lock, expiry (by date too), deletion and nologin without a login."""
import datetime
import json
import re
import subprocess
import time

import pytest

from harness import HELPER
from rootenv import PrivateSystem, clean_env, require
from worlds import FLEET_REASON, filed_for, people

NAMES = ("alice", "bob", "carol", "dave", "erin", "frank", "gina")


def day(delta):
    return (datetime.date.today() + datetime.timedelta(days=delta)).isoformat()


class Scanner:
    def __init__(self, tmp, f, e):
        self.f, self.e = f, e
        self.sys = PrivateSystem(tmp / "sys")

    def helper(self, *args, faketime=None):
        pre = []
        if faketime:
            # libfaketime by hand: an ASan helper (make asan) needs its
            # runtime first in LD_PRELOAD
            from pamwrap import LIBDIR, asan_runtime
            libs = asan_runtime() + [LIBDIR / "faketime" / "libfaketime.so.1"]
            pre = ["env", "LD_PRELOAD=" + " ".join(map(str, libs)),
                   "FAKETIME=" + faketime]
        return self.sys.run(pre + [HELPER, "-c", str(self.e.config_path)] +
                            list(args), check=False)

    def scan(self, *args, **kw):
        p = self.helper("scan", *args, **kw)
        assert p.returncode == 0, p.stderr
        return p

    def events(self):
        p = self.helper("status", "--json")
        return sorted((x["user"], x["event"]) for x in json.loads(p.stdout))


@pytest.fixture
def scanner(fake, env, tmp_path):
    require("faketime")
    f = fake(people(*NAMES))
    # identity from GECOS only: a deleted account must be remembered
    e = env(f, extra="events: { nologin = true; };",
            identity='gecos_email = true; gecos_domains = [ "example.com" ];')
    s = Scanner(tmp_path, f, e)
    for n in NAMES:
        s.sys.useradd(n, password="pw-" + n, gecos=f"{n.title()},,,,{n}@example.com")
    yield s
    s.sys.close()


def test_transitions_are_queued_once_and_delivered(scanner):
    s = scanner
    first = s.scan("--dry-run")
    assert "first scan: baseline" in first.stdout
    assert s.events() == []
    s.scan()                                   # baseline
    assert s.events() == []
    s.sys.run(["usermod", "-L", "alice"])
    s.sys.run(["usermod", "-e", "2020-01-01", "bob"])
    s.sys.run(["chage", "-E", day(-1), "carol"])
    s.sys.run(["userdel", "dave"])
    s.sys.run(["usermod", "-s", "/usr/sbin/nologin", "erin"])
    s.sys.run(["passwd", "-l", "frank"])
    dry = s.scan("--dry-run").stdout
    assert sorted(l for l in dry.splitlines() if l.startswith("would")) == [
        "would queue\talice\tlocked", "would queue\tbob\texpired",
        "would queue\tcarol\texpired", "would queue\tdave\tdeleted",
        "would queue\terin\tnologin", "would queue\tfrank\tlocked"]
    assert s.events() == []                    # a dry run writes nothing
    s.scan()
    want = [("alice", "locked"), ("bob", "expired"), ("carol", "expired"),
            ("dave", "deleted"), ("erin", "nologin"), ("frank", "locked")]
    assert s.events() == want
    s.scan()                                   # nothing new
    assert s.events() == want
    assert "0 events would be queued" in s.scan("--dry-run").stdout
    p = s.helper("deliver", "--now")
    assert p.returncode == 0, p.stderr
    for n in ("alice", "bob", "carol", "dave", "erin", "frank"):
        assert len(filed_for(s.f, n)) == 2, n  # dave: the remembered person
    assert filed_for(s.f, "gina") == []
    assert len(s.f.posts()) == 12
    reasons = {json.loads(p["body"])["reason"] for p in s.f.posts()}
    assert reasons == {FLEET_REASON}


def test_initial_after_the_baseline_queues_what_it_took_in(scanner):
    """A lock made before the first scan goes into its baseline; the advice
    the log gives, scan --initial, must then queue it (once)."""
    s = scanner
    s.sys.run(["usermod", "-L", "alice"])
    s.sys.run(["usermod", "-e", "2020-01-01", "bob"])
    p = s.helper("-v", "scan")
    assert p.returncode == 0, p.stderr
    assert "use --initial to queue them" in p.stderr
    assert re.search(r"scan: \d+ accounts, 0 events queued", p.stdout)
    assert s.events() == []
    p = s.helper("-v", "scan", "--initial")
    assert re.search(r"scan: \d+ accounts, 2 events queued", p.stdout), \
        p.stdout
    assert s.events() == [("alice", "locked"), ("bob", "expired")]
    s.scan("--initial")                        # nothing twice
    assert s.events() == [("alice", "locked"), ("bob", "expired")]
    p = s.helper("-v", "deliver", "--now")
    assert p.returncode == 0, p.stderr
    assert "deliver: 2 events delivered, 0 left queued, 0 parked" in p.stdout


def test_unlock_and_relock_is_a_new_episode(scanner):
    s = scanner
    s.scan()
    s.sys.run(["usermod", "-L", "alice"])
    s.scan()
    s.sys.run(["usermod", "-U", "alice"])
    s.scan()                                   # the episode ends
    s.sys.run(["usermod", "-L", "alice"])
    s.scan()
    assert s.events() == [("alice", "locked"), ("alice", "locked")]


def test_a_restored_spool_and_scan_state_queue_the_lock_again(scanner):
    """The spool and scan.state restored from a backup taken before the
    lock, the episode records kept: the scan sees the lock again and queues
    it again, once."""
    s = scanner
    s.scan()                                   # baseline
    state = s.e.state / "scan.state"
    backup = state.read_bytes()
    s.sys.run(["usermod", "-L", "alice"])
    s.scan()
    assert s.events() == [("alice", "locked")]
    for q in ("queue", "parked", "done"):
        for ev in (s.e.spool / q).glob("*.json"):
            ev.unlink()
    state.write_bytes(backup)                  # in place: owner and mode kept
    p = s.scan()
    assert "which is in none of queue/, parked/ and done/" in p.stderr
    assert s.events() == [("alice", "locked")]
    s.scan("--initial")                        # nothing twice
    assert s.events() == [("alice", "locked")]


def test_the_records_of_version_1_are_read_once(scanner):
    """Before the one state file, each account had a record of its own in
    accounts/: an upgrade compares against those, then replaces them."""
    import os
    s = scanner
    s.scan()
    state = s.e.state / "scan.state"
    old = s.e.state / "accounts"
    old.mkdir(mode=0o700)
    for line in state.read_text().splitlines()[1:]:
        name, rest = line.split("\t", 1)
        (old / name).write_text("v1\t" + rest + "\n")
    state.unlink()
    if os.geteuid() == 0:
        for p in [old] + list(old.iterdir()):
            os.chown(p, 65534, 65534)
    s.sys.run(["usermod", "-L", "alice"])
    s.scan()
    assert s.events() == [("alice", "locked")]   # not a baseline: compared
    assert state.read_text().startswith("accessowl-scan 2\n")
    assert not old.exists()
    s.scan()
    assert s.events() == [("alice", "locked")]


def test_expiry_by_the_passing_of_time(scanner):
    s = scanner
    s.sys.run(["chage", "-E", day(1), "gina"])     # expires tomorrow
    s.scan()
    s.scan()
    assert s.events() == []                        # not yet
    s.scan(faketime="+2d")                         # the daily timer, later
    assert s.events() == [("gina", "expired")]
    s.scan(faketime="+3d")
    assert s.events() == [("gina", "expired")]


def test_initial_queues_what_is_locked_already(scanner):
    s = scanner
    s.sys.run(["usermod", "-L", "alice"])
    s.scan("--initial")
    assert s.events() == [("alice", "locked")]


def test_first_scan_leaves_existing_locks_alone(scanner):
    s = scanner
    s.sys.run(["usermod", "-L", "alice"])
    s.scan()
    s.scan()
    assert s.events() == []


def test_scan_of_ten_thousand_accounts(fake, env):
    """Completes, and finds exactly the changed accounts (speed is the
    benchmark's business, not this test's)."""
    from pamwrap import HASH, PamWorld
    f = fake(people("u00042"))
    e = env(f, identity='email_domain = "example.com";')
    w = PamWorld(e)
    n = 10000
    w.users = {f"u{i:05d}": (10000 + i, "", f"u{i:05d}:{HASH}:19000:0:::::")
               for i in range(n)}
    w.write_db()

    def scan(*args):
        p = subprocess.run([str(w.wrapper), "-c", str(e.config_path), "scan"]
                           + list(args), capture_output=True, text=True,
                           timeout=600)
        assert p.returncode == 0, p.stderr
        return p
    t = time.monotonic()
    scan()
    baseline = time.monotonic() - t
    kept = (e.state / "scan.state").read_text().splitlines()
    assert kept[0] == "accessowl-scan 2"
    assert sum(l.startswith("u") for l in kept) == n
    for i in range(0, n, 100):                 # lock 100 of them
        name = f"u{i:05d}"
        w.users[name] = (10000 + i, "", f"{name}:!{HASH}:19000:0:::::")
    w.write_db()
    t = time.monotonic()
    scan()
    second = time.monotonic() - t
    events = json.loads(subprocess.run(
        [str(w.wrapper), "-c", str(e.config_path), "status", "--json"],
        capture_output=True, text=True).stdout)
    assert len(events) == 100 and all(x["event"] == "locked" for x in events)
    assert sum("\tlocked\t" in l for l in
               (e.state / "scan.state").read_text().splitlines()) == 100
    print(f"\nscan of {n} accounts: baseline {baseline:.1f} s, "
          f"with 100 locks {second:.1f} s")


def test_scan_as_service_user_with_one_capability(scanner):
    """As accessowl-scan.service runs it: the service user with ambient
    CAP_DAC_READ_SEARCH reads shadow, then gives the capability up."""
    s = scanner
    import os
    s.e.spool.mkdir(mode=0o700)           # as tmpfiles.d makes it
    os.chown(s.e.spool, 65534, 65534)
    as_unit = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
               "--inh-caps=+dac_read_search",
               "--ambient-caps=+dac_read_search"]
    run = lambda: s.sys.run(as_unit + [HELPER, "-v", "-c",
                                       str(s.e.config_path), "scan"],
                            check=False)
    p = run()
    assert p.returncode == 0, p.stderr
    assert "gave up all capabilities" in p.stderr
    s.sys.run(["usermod", "-L", "alice"])
    p = run()
    assert p.returncode == 0, p.stderr
    assert s.events() == [("alice", "locked")]
    # without the capability the shadow cannot be read: a clear refusal
    p = s.sys.run(as_unit[:4] + [HELPER, "-c", str(s.e.config_path), "scan"],
                  check=False)
    assert p.returncode == 77
    assert "CAP_DAC_READ_SEARCH" in p.stderr


def test_unreadable_shadow_entry_is_not_a_deletion(fake, env):
    """An account whose shadow entry cannot be read (an NSS hiccup) is
    still in passwd: it must not be revoked as deleted."""
    from pamwrap import HASH, PamWorld
    f = fake(people("alice"))
    e = env(f, identity='email_domain = "example.com";')
    w = PamWorld(e)
    w.add_user("alice", HASH, 2001)
    w.add_user("bob", HASH, 2002)

    def scan():
        p = subprocess.run([str(w.wrapper), "-c", str(e.config_path), "scan"],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
    scan()
    w.shadow.write_text("\n".join(l for l in w.shadow.read_text().splitlines()
                                  if not l.startswith("alice:")) + "\n")
    scan()
    del w.users["bob"]                   # bob really is gone
    w.write_db()
    scan()
    status = json.loads(subprocess.run(
        [str(w.wrapper), "-c", str(e.config_path), "status", "--json"],
        capture_output=True, text=True).stdout)
    assert [(x["user"], x["event"]) for x in status] == [("bob", "deleted")]


# -- never revoke on a doubt ------------------------------------------------

# LeakSanitizer (make asan) cannot work under ptrace
NO_LSAN = clean_env(ASAN_OPTIONS="detect_leaks=0")


def _strace(sys_, *args, inject):
    """The helper under strace, failing openat of /etc/passwd as told."""
    return sys_.run(["strace", "-f", "-qq", "-o", "/dev/null", "-P",
                     "/etc/passwd", "-e", "trace=openat", "-e",
                     "inject=openat:" + inject, HELPER, "-c",
                     str(args[0])] + list(args[1:]), check=False,
                    env=NO_LSAN)


def _passwd_opens(s):
    p = s.sys.run(["strace", "-f", "-qq", "-P", "/etc/passwd", "-e",
                   "trace=openat", HELPER, "-c", str(s.e.config_path),
                   "scan", "--dry-run"], check=False, env=NO_LSAN)
    assert p.returncode == 0, p.stderr
    return len([l for l in p.stderr.splitlines() if "/etc/passwd" in l])


@pytest.mark.parametrize("errno", ["EMFILE", "ENFILE", "EIO"])
def test_a_passwd_that_fails_to_open_once_revokes_nobody(scanner, errno):
    """NSS answers "no more entries" when /etc/passwd cannot be opened: the
    listing comes back empty.  At whichever open of /etc/passwd the fault
    strikes, the scan must not take that for deletions."""
    require("strace")
    s = scanner
    s.scan()                                   # the baseline: 7 accounts
    opens = _passwd_opens(s)
    assert opens >= 2
    failed = 0
    for k in range(1, opens + 1):
        p = _strace(s.sys, s.e.config_path, "scan",
                    inject=f"error={errno}:when={k}")
        assert s.events() == [], (k, p.stderr)
        if p.returncode != 0:
            failed += 1
            assert p.returncode == 75, p.stderr
            assert "queues nothing" in p.stderr, p.stderr
    # the fault was met where it matters: the listing itself came back
    # short, and the scan said so instead of queueing seven deletions
    assert failed >= 1
    assert "but it exists" in p.stderr or failed > 1
    p = s.helper("scan")
    assert p.returncode == 0, p.stderr
    assert s.events() == []
    # a real deletion still goes through
    s.sys.run(["userdel", "gina"])
    s.scan()
    assert s.events() == [("gina", "deleted")]


def test_a_passwd_that_cannot_be_read_at_all_revokes_nobody(scanner):
    """Every open of /etc/passwd fails from the listing on (a disk that
    answers EIO): NSS says "no such user" to each direct lookup as well
    (nss-systemd answers last), so only our own read of the file can tell;
    it fails too, and the scan queues nothing."""
    require("strace")
    s = scanner
    s.scan()
    # the first opens are the config's service user lookup
    p = _strace(s.sys, s.e.config_path, "scan", inject="error=EIO:when=2+")
    assert p.returncode == 75, p.stderr
    assert "cannot read /etc/passwd" in p.stderr, p.stderr
    assert s.events() == []


def test_an_account_leaving_management_is_forgotten_not_revoked(scanner):
    """A uid moved below accounts.min_uid takes the account out of the
    listing, but it was not deleted."""
    s = scanner
    s.scan()
    s.sys.run(["usermod", "-u", "500", "bob"])
    p = s.helper("-v", "scan")
    assert p.returncode == 0, p.stderr
    assert "account bob is no longer managed" in p.stderr
    assert s.events() == []
    s.sys.run(["userdel", "carol"])
    s.scan()
    assert s.events() == [("carol", "deleted")]


MANY = [f"user{i:02d}" for i in range(15)]


@pytest.fixture
def many(fake, env, tmp_path):
    f = fake(people(*MANY))
    e = env(f, identity='email_domain = "example.com";')
    s = Scanner(tmp_path, f, e)
    for n in MANY:
        s.sys.useradd(n, password="pw-" + n, create_home=False)
    yield s
    s.sys.close()


def test_a_mass_vanishing_is_held_until_the_administrator_confirms(many):
    s = many
    s.scan()
    for n in MANY[:12]:                        # 12 of 15: more than 10, 80 %
        s.sys.run(["userdel", n])
    s.sys.run(["usermod", "-L", MANY[14]])     # a lock goes through as ever
    p = s.helper("scan")
    assert p.returncode == 65, p.stderr
    # 15 and those of the host's own copied /etc (nobody, ...)
    m = re.search(r"12 of the (\d+) managed accounts vanished", p.stderr)
    assert m and int(m.group(1)) >= 15, p.stderr
    kept = m.group(1)
    assert "--confirm-deletions" in p.stderr
    assert s.events() == [(MANY[14], "locked")]
    status = s.helper("status").stdout
    assert status.startswith(f"HELD: 12 of {kept} managed accounts"), status
    assert "user00, user01" in status
    prom = s.helper("status", "--prometheus").stdout
    assert "accessowl_scan_deletions_held 12\n" in prom
    chk = s.helper("check")
    assert chk.returncode != 0
    assert f"FAILED: the scan holds the deletions of 12 of {kept}" in \
        chk.stdout
    # the next scan holds them still: they stay in the state, gone
    p = s.helper("scan")
    assert p.returncode == 65
    assert s.events() == [(MANY[14], "locked")]
    dry = s.helper("scan", "--dry-run").stdout
    assert dry.count("would hold\t") == 12
    # one word from the administrator, and the deletions go through
    p = s.helper("scan", "--confirm-deletions")
    assert p.returncode == 0, p.stderr
    assert sorted(s.events()) == sorted(
        [(n, "deleted") for n in MANY[:12]] + [(MANY[14], "locked")])
    assert "HELD" not in s.helper("status").stdout
    prom = s.helper("status", "--prometheus").stdout
    assert "accessowl_scan_deletions_held 0\n" in prom
    p = s.helper("scan")
    assert p.returncode == 0, p.stderr
    assert len(s.events()) == 13
    assert "FAILED: the scan" not in s.helper("check").stdout


def test_accounts_that_come_back_end_the_hold(many):
    s = many
    s.scan()
    backup = (s.sys.etc / "passwd").read_text()
    lines = backup.splitlines()
    # an LDAP-like source away for a moment, as the files see it: most
    # managed accounts vanish at once, then come back
    (s.sys.etc / "passwd").write_text("\n".join(
        l for l in lines if l.split(":")[0] not in MANY[:13]) + "\n")
    p = s.helper("scan")
    assert p.returncode == 65, p.stderr
    (s.sys.etc / "passwd").write_text(backup)
    p = s.helper("scan")
    assert p.returncode == 0, p.stderr
    assert s.events() == []
    assert "HELD" not in s.helper("status").stdout


def test_a_shadow_that_fails_to_open_loses_no_lock(scanner):
    """At whichever open of /etc/shadow the fault strikes, the scan queues
    nothing wrong and loses nothing: the lock is queued once, by that scan
    or the next."""
    require("strace")
    s = scanner
    s.scan()
    for k in (1, 2, 3):
        s.sys.run(["usermod", "-U", "alice"])
        s.scan()
        s.sys.run(["usermod", "-L", "alice"])
        before = s.events()
        p = s.sys.run(["strace", "-f", "-qq", "-o", "/dev/null", "-P",
                       "/etc/shadow", "-e", "trace=openat", "-e",
                       f"inject=openat:error=EIO:when={k}", HELPER, "-c",
                       str(s.e.config_path), "scan"], check=False,
                      env=NO_LSAN)
        assert p.returncode in (0, 75), p.stderr
        if p.returncode == 75:
            assert "cannot read /etc/shadow" in p.stderr, p.stderr
        s.scan()
        assert s.events() == before + [("alice", "locked")], (k, p.stderr)


def test_a_cut_last_line_of_the_state_loses_no_lock(scanner):
    """A crash of the disk, not of the scan, can cut scan.state short: the
    account whose line is cut is judged as by --initial, so its lock is
    still queued (and only once)."""
    s = scanner
    s.scan()
    state = s.e.state / "scan.state"
    lines = state.read_text().splitlines(keepends=True)
    gina = [l for l in lines if l.startswith("gina\t")]
    assert len(gina) == 1
    s.sys.run(["usermod", "-L", "gina"])
    # gina's line last (the parser sorts), and cut
    state.write_text("".join(l for l in lines if l not in gina) +
                     gina[0][:-12])
    p = s.helper("scan")
    assert p.returncode == 0, p.stderr
    assert "1 damaged lines" in p.stderr
    assert s.events() == [("gina", "locked")]
    s.scan()
    assert s.events() == [("gina", "locked")]


def test_an_empty_state_stops_no_scan_and_loses_no_lock(scanner):
    s = scanner
    s.scan()
    s.sys.run(["usermod", "-L", "alice"])
    s.scan()
    s.sys.run(["usermod", "-L", "bob"])
    (s.e.state / "scan.state").write_text("")  # a full disk, a bad fsck
    p = s.helper("scan")
    assert p.returncode == 0, p.stderr
    assert "scan --initial" in p.stderr
    # bob's lock is not lost, alice's is not queued twice
    assert s.events() == [("alice", "locked"), ("bob", "locked")]
    s.scan()
    assert s.events() == [("alice", "locked"), ("bob", "locked")]
