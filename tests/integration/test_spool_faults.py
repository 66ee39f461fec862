"""The spool under faults: each error names what really failed and on which
entry; one odd entry never stops the others; damaged files are counted;
"cannot read now" is not "damaged"; leftovers of crashes are removed,
never a live writer's; new directories are synced in their parent.

Faults are real: strace's -e inject= on the helper's own system calls,
and entries planted in the spool."""
import glob
import json
import os
import re
import subprocess
import time

import pytest

from conftest import HELPER
from rootenv import require
from test_queue import status
from worlds import filed_for, people


def strace(e, inject, paths, *args, popen=False, trace=None, out=None):
    """The helper under strace: each of inject ("openat:error=EMFILE", ...)
    on the system calls of paths (-P: on those files, or relative to those
    directories).  Not the deliverer an enqueue starts: it is not
    followed."""
    require("strace")
    cmd = ["strace", "-qq", "-o", str(out or "/dev/null")]
    if trace:
        cmd += ["-y", "-e", "trace=" + trace]
    for i in inject:
        cmd += ["-e", "inject=" + i]
    for p in paths:
        cmd += ["-P", str(p)]
    cmd += [HELPER, "-c", str(e.config_path)] + list(args)
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")  # no LSan in ptrace
    if popen:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                          env=env)


def metrics(e):
    p = e.run("status", "--prometheus")
    return p, {k: float(v) for k, v in (l.rsplit(" ", 1) for l in
               p.stdout.splitlines() if l and not l.startswith("#"))}


def as_service_user(path):
    if os.geteuid() == 0:
        os.lchown(path, 65534, 65534)


def queued_alice(fake, env, *others):
    """alice's event, queued (AccessOwl refused the token: no retry)."""
    f = fake(people("alice", *others))
    e = env(f, identity='email_domain = "example.com";')
    f.faults([{"method": "*", "path": "/api/v1/", "action": "status",
               "status": 401}])
    assert e.run("revoke", "--user", "alice").returncode == 77
    f.control("DELETE", "/_fake/faults")
    return f, e


def test_an_odd_lock_stops_deliveries_only_and_says_so(fake, env):
    f, e = queued_alice(fake, env, "bob")
    os.unlink(e.spool / ".lock")
    os.mkdir(e.spool / ".lock")
    as_service_user(e.spool / ".lock")
    # what does not deliver goes on: enqueue, status
    assert e.run("enqueue", "--user", "bob", "--event", "deleted").returncode == 0
    assert len(status(e)) == 2
    p = e.run("deliver", "--now")
    assert p.returncode != 0
    assert f"{e.spool}/.lock: it is a directory, not a regular file; " \
        "move it aside" in p.stderr, p.stderr
    assert filed_for(f, "alice") == []
    os.rmdir(e.spool / ".lock")
    assert e.run("deliver", "--now").returncode == 0
    assert len(filed_for(f, "alice")) == 2
    assert len(filed_for(f, "bob")) == 2


def test_a_queue_directory_that_is_a_file_is_named(fake, env):
    f, e = queued_alice(fake, env)
    os.rename(e.spool / "parked", e.tmp / "parked.saved")
    (e.spool / "parked").write_text("not a directory\n")
    p = e.run("deliver", "--now")
    assert p.returncode == 77
    assert f"{e.spool}/parked is a regular file, not a directory; move it " \
        "aside" in p.stderr, p.stderr


def test_damaged_entries_are_skipped_named_and_counted(fake, env):
    """A FIFO, a directory, a symlink, an unreadable file and a newer
    version's record in queue/: each is named with what it is, skipped and
    counted (status, --json, the metrics); the healthy event is
    delivered."""
    f, e = queued_alice(fake, env)
    q = e.spool / "queue"
    [good] = list(q.glob("*.json"))
    newer = json.loads(good.read_text())
    newer["version"] = 2
    (q / "1-newer.json").write_text(json.dumps(newer))
    (q / "2-unreadable.json").write_text(good.read_text())
    os.chmod(q / "2-unreadable.json", 0)
    os.mkfifo(q / "3-fifo.json")
    os.mkdir(q / "4-dir.json")
    os.symlink(good, q / "5-link.json")
    (q / "6-cut.json").write_text(good.read_text()[:40])
    for x in q.iterdir():
        as_service_user(x)
    says = {
        "1-newer.json": "a record of version 2, written by a newer "
                        "pam_accessowl: upgrade this host",
        "2-unreadable.json": "the service user may not read it",
        "3-fifo.json": "it is a FIFO, not a regular file",
        "4-dir.json": "it is a directory, not a regular file",
        "5-link.json": "it is a symbolic link, not a regular file",
        "6-cut.json": "not a JSON object",
    }
    p = e.run("deliver", "--now", timeout=60)
    assert p.returncode == 65, p.stderr
    for name, why in says.items():
        assert f"spool file {q}/{name} is damaged: {why}" in p.stderr, \
            (name, p.stderr)
    assert "malformed data" not in p.stderr
    assert len(filed_for(f, "alice")) == 2          # the others went on
    st = status(e)
    assert [x["queue"] for x in st if "user" in x] == ["delivered"]
    damaged = {x["file"]: x["damaged"] for x in st if "damaged" in x}
    assert sorted(damaged) == sorted(says)
    assert all(says[k] in v for k, v in damaged.items())
    assert {x["queue"] for x in st if "damaged" in x} == {"queued"}
    text = e.run("status").stdout
    assert "DAMAGED SPOOL FILES (6;" in text
    assert "queue/3-fifo.json: it is a FIFO" in text
    p, m = metrics(e)
    assert p.returncode == 0
    assert m['accessowl_events_damaged{queue="queued"}'] == 6
    assert m['accessowl_events_damaged{queue="parked"}'] == 0
    assert m['accessowl_events{queue="delivered"}'] == 1
    # nothing damaged was removed
    assert sorted(x.name for x in q.iterdir()) == sorted(says)


@pytest.mark.parametrize("fault", ["openat:error=EMFILE", "read:error=EIO"])
def test_a_healthy_event_that_cannot_be_read_now_is_not_damaged(fake, env,
                                                                fault):
    f, e = queued_alice(fake, env)
    [good] = list((e.spool / "queue").glob("*.json"))
    # openat relative to queue/, read on the file itself: its first read
    where = e.spool / "queue" if fault.startswith("openat") else good
    p = strace(e, [fault + ":when=1"], [where], "status")
    assert p.returncode == 75, p.stderr
    why = "Too many open files" if "EMFILE" in fault else \
        "Input/output error"
    assert f"cannot read spool file {good} now: {why}; it is not damaged" \
        in p.stderr, p.stderr
    assert "is damaged" not in p.stderr and "DAMAGED" not in p.stdout
    p = strace(e, [fault + ":when=1"], [where], "deliver", "--now")
    assert "is damaged" not in p.stderr and "move it aside" not in p.stderr
    assert f"cannot read spool file {good} now: {why}" in p.stderr
    # nothing was lost: it is delivered (by the same run's next round, or
    # the next run)
    e.run("deliver", "--now")
    assert len(filed_for(f, "alice")) == 2
    assert [x["queue"] for x in status(e)] == ["delivered"]


def test_a_listing_cut_short_is_no_listing(fake, env):
    """Reading queue/ fails (EIO): no "no events", no empty queue."""
    f, e = queued_alice(fake, env)
    p = strace(e, ["getdents64:error=EIO"], [e.spool / "queue"], "status")
    assert p.returncode == 75, (p.stdout, p.stderr)
    assert f"cannot list {e.spool}/queue now: Input/output error" in p.stderr
    assert "no events" not in p.stdout
    p = strace(e, ["getdents64:error=EIO"], [e.spool / "queue"], "deliver",
               "--now")
    assert p.returncode == 75, p.stderr
    assert filed_for(f, "alice") == []
    assert e.run("deliver", "--now").returncode == 0
    assert len(filed_for(f, "alice")) == 2


def test_a_record_that_cannot_be_read_now_is_kept(fake, env):
    """A follow record (what catches a later rejection) opened while the
    process is out of descriptors: kept for the next run, not "damaged;
    removed"."""
    f = fake(people("alice"))
    e = env(f, identity='email_domain = "example.com";')
    assert e.run("revoke", "--user", "alice").returncode == 0
    [rec] = list((e.state / "follow").iterdir())
    p = strace(e, ["openat:error=EMFILE:when=1"], [e.state / "follow"],
               "deliver", "--now")
    assert "cannot read follow record" in p.stderr, p.stderr
    assert "damaged" not in p.stderr
    assert rec.exists()
    assert e.run("deliver", "--now").returncode == 0
    assert rec.exists()                     # still followed


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


def tmp_files(e):
    return [x for d in ("queue", "parked", "done")
            for x in (e.spool / d).glob(".tmp-*")]


def age(path, seconds):
    t = time.time() - seconds
    os.utime(path, (t, t), follow_symlinks=False)


def test_a_crashed_writers_temporary_file_is_removed(fake, env):
    f = fake(people("alice"))
    e = env(f, identity='email_domain = "example.com";')
    assert e.run("deliver").returncode == 0       # makes the spool
    # killed before it renames its temporary file into place
    strace(e, ["renameat:signal=KILL"], [e.spool / "queue"], "enqueue",
           "--user", "gone", "--event", "deleted")
    [tmp] = tmp_files(e)
    assert e.run("deliver").returncode == 0
    assert tmp.exists()                           # it may be a live one's
    age(tmp, 2 * 3600)
    p = e.run("deliver", "--now")
    assert p.returncode == 0, p.stderr
    assert not tmp.exists()
    assert tmp_files(e) == []


def test_a_live_writers_temporary_file_is_never_removed(fake, env):
    """A writer stalled for seconds before its rename (a slow disk, a
    stopped process), its temporary file older than the cleaner's age (a
    clock step): the writer's lock keeps it, and the write completes."""
    f = fake(people("gone"))
    e = env(f, identity='email_domain = "example.com";')
    assert e.run("deliver").returncode == 0       # makes the spool
    w = strace(e, ["renameat:delay_enter=4000000"], [e.spool / "queue"],
               "enqueue", "--user", "gone", "--event", "deleted", popen=True)
    deadline = time.monotonic() + 30
    while not tmp_files(e) and time.monotonic() < deadline:
        time.sleep(0.05)
    [tmp] = tmp_files(e)
    age(tmp, 2 * 3600)
    p = e.run("deliver", "--now")
    assert p.returncode == 0, p.stderr
    out, err = w.communicate(timeout=60)
    assert w.returncode == 0, err
    assert [x["user"] for x in status(e)] == ["gone"]


SYNCED = re.compile(r"^(?:(\d+)\s+)?(?:mkdirat\((\d+)<([^>]*)>, \"([^\"]+)\""
                    r"|fsync\(\d+<([^>]*)>\))[^=]*=\s+(-?\d+)")


def test_new_directories_are_synced_in_their_parent(fake, env):
    """The first events on a fresh host make the spool, queue/, parked/,
    done/ and the state's record directories: each is fsynced in its
    parent after it is made, so that a crash cannot forget it (and the
    files in it)."""
    f = fake(people("alice"))
    e = env(f, identity='email_domain = "example.com";')
    trace = e.tmp / "trace"
    p = strace(e, [], [], "revoke", "--user", "alice", trace="mkdirat,fsync",
               out=trace)
    assert p.returncode == 0, p.stderr
    # one line a call: "call(...) = ret" ("PID call..." if it forked)
    made, synced = [], {}
    for n, line in enumerate(trace.read_text().splitlines()):
        m = SYNCED.match(line)
        if not m or int(m.group(6)) != 0:
            continue
        if m.group(3):
            made.append((n, m.group(1), m.group(3), m.group(4)))
        else:
            synced.setdefault((m.group(1), m.group(5)), []).append(n)
    names = {name for _, _, _, name in made}
    assert {"queue", "parked", "done", "follow"} <= names, made
    assert any(name.startswith(".accessowl-new-") for _, _, _, name in made) \
        or os.geteuid() != 0
    unsynced = [(parent, name) for n, pid, parent, name in made
                if not any(k > n for k in synced.get((pid, parent), []))]
    assert not unsynced, unsynced
