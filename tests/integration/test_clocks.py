"""Clock steps never become decisions (common/clock.h): a 429 hold or a
retry set while the wall clock was a day fast is no day long once it is
right.  libfaketime moves the helper's wall clock alone, not its boot clock
(FAKETIME_DONT_FAKE_MONOTONIC), as a real clock step does.  The PAM side (a
relock after the clock was set back) is in test_pam_root.py."""
import json
import os
import subprocess
import time

import pytest

from conftest import CI
from harness import HELPER
from pamwrap import LIBDIR, asan_runtime
from test_faults import hold_left
from test_revoke import ACTIVE, start

FAKETIME_LIB = LIBDIR / "faketime" / "libfaketime.so.1"


def need_faketime():
    if not FAKETIME_LIB.exists():
        msg = "libfaketime is missing (Debian package: faketime)"
        if CI:
            pytest.fail(msg)
        pytest.skip(msg)


def faketime_env(offset, base=None, helper=True):
    """An environment whose wall clock is moved by offset ("+1d", "-90"),
    its boot clock left alone.  For the helper (helper=True), after the
    ASan runtime when it is an ASan build; not for anything else (pamtester
    is not one)."""
    libs = (asan_runtime() if helper else []) + [FAKETIME_LIB]
    return dict(os.environ if base is None else base,
                LD_PRELOAD=" ".join(map(str, libs)), FAKETIME=offset,
                FAKETIME_DONT_RESET="1", FAKETIME_DONT_FAKE_MONOTONIC="1")


def helper_at(e, offset, *args):
    return subprocess.run([HELPER, "-c", str(e.config_path)] + list(args),
                          capture_output=True, text=True, timeout=120,
                          env=faketime_env(offset))


def status(e):
    p = e.run("status", "--json")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def failed_a_day_fast(fake, env, fault):
    """`revoke` of alice while the clock is a day fast, failing (exit 75)
    on `fault` (a rule for the users lookup)."""
    need_faketime()
    f, e = start(fake, env)
    f.faults([dict(fault, method="GET", path="/api/v1/users",
                   action="status")])
    p = helper_at(e, "+1d", "revoke", "--user", "alice")
    assert p.returncode == 75, p.stderr
    return f, e


def test_a_429_while_a_day_fast_holds_what_it_asked_not_a_day(fake, env):
    f, e = failed_a_day_fast(fake, env, {"status": 429, "retry_after": 121})
    # the clock is right again: the hold is what AccessOwl asked for
    assert 0 < hold_left(e) <= 122
    # the timer's next run: held still, and the hold written back so...
    assert e.run("deliver").returncode == 0
    assert len(f.requests()) == 1
    # ...that it runs out
    p = helper_at(e, "+125", "revoke", "--user", "alice")
    assert p.returncode == 0, p.stderr
    assert sorted(r["access_state_id"] for r in f.revocations()) == \
        sorted(ACTIVE)


def test_a_retry_set_while_a_day_fast_is_not_a_day_out(fake, env):
    f, e = failed_a_day_fast(fake, env, {"status": 503, "count": 5})
    [ev] = status(e)
    delay = ev["next_attempt"] - ev["last_attempt"]
    assert 0 < delay <= 120 and ev["next_attempt"] > time.time() + 86000
    n = len(f.requests())
    # the timer's run, the clock right again: not due yet, and written
    # back as due after that delay from now
    assert e.run("deliver").returncode == 0
    assert len(f.requests()) == n
    [ev] = status(e)
    assert ev["next_attempt"] <= time.time() + delay + 1
    p = helper_at(e, "+%d" % (delay + 5), "deliver")
    assert p.returncode == 0, p.stderr
    assert sorted(r["access_state_id"] for r in f.revocations()) == \
        sorted(ACTIVE)
    assert [x["queue"] for x in status(e)] == ["delivered"]
