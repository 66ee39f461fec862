"""Each failure: a clear one-line error, the documented exit code, no POST."""
import os

import pytest

from conftest import HELPER, NO_RUNNER, check_failures, lines, need_root
from test_revoke import start


def one_error(p, code, *needles):
    assert p.returncode == code, (p.returncode, p.stdout, p.stderr)
    errs = lines(p.stderr)
    assert len(errs) == 1, p.stderr
    for n in needles:
        assert n in errs[0], (n, errs[0])
    return errs[0]


def check_failed(p, code, *needles):
    """check: every failure on a FAILED line of its own (stdout), with its
    fix; nothing on stderr; the exit status that of the first failure."""
    assert p.returncode == code, (p.returncode, p.stdout, p.stderr)
    assert "error:" not in p.stderr, p.stderr
    failed = check_failures(p)
    assert len(failed) == 1, p.stdout
    for n in needles:
        assert n in failed[0], (n, failed[0])
    return failed[0]


def test_bad_config_is_78_with_file_and_line(fake, env):
    f, e = start(fake, env, extra="\nevents: { lockd = true; };\n")
    p = e.run("revoke", "--user", "alice")
    one_error(p, 78, f"{e.config_path}:", "unknown key 'events.lockd'")
    assert f.requests() == []


def test_missing_config_is_78(fake, env, tmp_path):
    f, e = start(fake, env)
    e.config_path = tmp_path / "nope.conf"
    check_failed(e.run("check"), 78, "nope.conf", "No such file",
                 "nothing else can be checked")


def test_writable_config_is_refused(fake, env):
    f, e = start(fake, env)
    os.chmod(e.config_path, 0o666)
    one_error(e.run("revoke", "--user", "alice"), 77, "writable by group or "
              "others", f"chmod go-w {e.config_path}")
    assert f.requests() == []


def test_world_readable_token_is_refused(fake, env):
    f, e = start(fake, env)
    os.chmod(e.token_path, 0o644)
    err = one_error(e.run("revoke", "--user", "alice"), 77,
                    "readable by everyone", f"chmod 0640 {e.token_path}")
    assert e.token not in err
    assert f.requests() == []


def test_group_readable_token_needs_service_group(fake, env):
    f, e = start(fake, env)
    os.chmod(e.token_path, 0o640)
    os.chown(e.token_path, -1, 0)  # group root is not nobody's group
    if os.geteuid() != 0:
        pytest.skip("chgrp to root needs root")
    check_failed(e.run("check"), 77, "not the service user's group",
                 f"chgrp nogroup {e.token_path} && chmod 0640")
    os.chown(e.token_path, -1, 65534)  # nogroup: nobody's group
    assert check_failures(e.run("check")) == []


def test_symlinked_token_is_refused(fake, env, tmp_path):
    f, e = start(fake, env)
    real = tmp_path / "real-token"
    os.rename(e.token_path, real)
    os.symlink(real, e.token_path)
    check_failed(e.run("check"), 77, "symbolic link")


def test_empty_token_is_78(fake, env):
    f, e = start(fake, env)
    e.token_path.write_text("\n")
    check_failed(e.run("check"), 78, "is empty")


def test_wrong_ca_is_69(fake, env, certs):
    f, e = start(fake, env, ca=str(certs / "other-ca.pem"))
    one_error(e.run("revoke", "--user", "alice"), 69, "api.ca_file")
    assert f.requests() == []  # TLS failed before any request was made


def test_wrong_token_is_77(fake, env):
    f, e = start(fake, env)
    e.token_path.write_text("aot_not-the-right-token\n")
    err = one_error(e.run("revoke", "--user", "alice"), 77, "HTTP 401",
                    str(e.token_path))
    assert "not-the-right-token" not in err
    assert f.posts() == []
    assert len(f.requests()) == 1  # a 401 is not retried


@pytest.mark.parametrize("echo", ["header", "bare"])
def test_a_body_that_echoes_the_token_is_not_logged(fake, env, echo):
    """A TLS-intercepting proxy or a wrong api.url that mirrors the
    request's headers in a refusal must not put the token in auth.log."""
    f, e = start(fake, env)
    body = ({"headers": {"Authorization": "Bearer " + e.token}}
            if echo == "header" else {"seen": [e.token]})
    f.faults([{"method": "GET", "path": "/api/v1/users", "action": "body",
               "status": 400, "body": body}])
    p = e.run("revoke", "--user", "alice")
    assert p.returncode == 65, p.stderr
    assert e.token not in p.stderr + p.stdout
    assert "not logged: it may echo the request's Authorization header" \
        in p.stderr, p.stderr


def test_unknown_person_is_65(fake, env):
    f, e = start(fake, env, identity='map = ( { user = "alice"; '
                 'email = "nobody.here@example.com"; } );')
    one_error(e.run("revoke", "--user", "alice"), 65,
              "no AccessOwl person has the e-mail address "
              "nobody.here@example.com")
    assert f.posts() == []


def test_unmapped_account_is_65(fake, env):
    f, e = start(fake, env, identity="")
    one_error(e.run("revoke", "--user", "no-such-account-x"), 65,
              "no local account no-such-account-x", "identity.map")
    assert f.requests() == []


def test_excluded_account_is_refused(fake, env):
    f, e = start(fake, env, identity='email_domain = "example.com";')
    one_error(e.run("revoke", "--user", "root"), 65, "accounts.exclude")
    assert f.requests() == []


def test_usage_errors_are_64(fake, env):
    f, e = start(fake, env)
    assert e.run("revoke").returncode == 64
    assert e.run("revoke", "--user", "alice", "extra").returncode == 64
    assert e.run("frobnicate").returncode == 64
    assert f.requests() == []


def test_check_ok_and_down(fake, env):
    f, e = start(fake, env)
    p = e.run("check")
    assert check_failures(p) == [], p.stdout
    assert "accepted the token (HTTP 200)" in p.stdout
    assert len([r for r in f.requests()]) == 1
    f.stop()
    p = e.run("check")
    assert p.returncode != 0
    [down] = check_failures(p)
    assert down.startswith(f"FAILED: AccessOwl API at {f.url}: cannot "
                           f"reach {f.url}:"), down
    assert "check api.url (host and port)" in down, down
    # check tries once: it must not promise to try later
    assert "will try later" not in p.stdout + p.stderr


def test_check_says_when_api_url_has_a_path(fake, env):
    """api.url = https://host/v2 made every request 404 with a path that
    was never requested in the message."""
    f, e = start(fake, env)
    text = e.config_path.read_text().replace(f'url = "{f.url}"',
                                              f'url = "{f.url}/v2"')
    e.config_path.write_text(text)
    p = e.run("check")
    [bad] = check_failures(p)
    assert f"GET {f.url}/v2/api/v1/users?limit=1" in bad, bad
    assert "api.url is probably wrong: it is the base URL" in bad, bad


def test_check_runs_every_check_and_prints_every_fix(fake, env, certs):
    """A 0644 token, a missing CA file and no identity rule: one FAILED
    line each, with the commands that fix it, and the first failure's
    exit status; nothing stops at the first."""
    f, e = start(fake, env, identity="", ca="/nonexistent/ca.pem")
    if os.geteuid() == 0:
        os.chown(e.token_path, 0, 0)          # root:root 0644
    os.chmod(e.token_path, 0o644)
    p = e.run("check")
    assert p.returncode == 78, p.stdout + p.stderr   # identity comes first
    assert "error:" not in p.stderr, p.stderr
    failed = check_failures(p)
    assert len(failed) == 3, p.stdout
    assert failed[0].startswith("FAILED: identity: no rule")
    assert 'email_domain = "example.com";' in failed[0]
    assert "readable by everyone" in failed[1]
    if os.geteuid() == 0:
        assert f"chgrp nogroup {e.token_path} && chmod 0640 " \
            f"{e.token_path}" in failed[1], failed[1]
    assert "/nonexistent/ca.pem" in failed[2]
    assert e.token not in p.stdout
    assert "skipped: " in p.stdout
    assert f.requests() == []


def test_check_says_when_nothing_starts_scan_and_deliver(fake, env):
    f, e = start(fake, env)
    p = e.run("check")
    runner = [l for l in lines(p.stdout) if "starts scan and deliver" in l]
    assert len(runner) == 1, p.stdout
    import shutil
    from pathlib import Path
    if not Path("/run/systemd/system").exists() and \
            not shutil.which("cron", path="/usr/sbin"):
        assert runner[0].startswith(NO_RUNNER), runner
        assert "install cron" in runner[0]
        assert p.returncode == 78


def test_version():
    import subprocess
    from conftest import HELPER, ROOT
    p = subprocess.run([HELPER, "--version"], capture_output=True, text=True)
    assert p.stdout.strip() == "accessowl-helper " + \
        (ROOT / "VERSION").read_text().strip()


def test_check_reads_the_pam_stacks(fake, env, tmp_path):
    """enforce on a line that cannot refuse, a line before the module that
    ends the stack, the module nowhere: check says so, with the file."""
    from rootenv import PrivateSystem, require
    require()
    f, e = start(fake, env)
    sys_ = PrivateSystem(tmp_path / "sys")
    pam = sys_.etc / "pam.d"

    def check():
        return sys_.run([HELPER, "-c", str(e.config_path), "check"],
                        check=False)

    for n in ("sshd", "login", "su", "sudo", "cron"):
        if (pam / n).exists():
            (pam / n).write_text("@include common-account\n")
    (pam / "common-account").write_text("account required pam_unix.so\n")
    p = check()
    assert "note: pam_accessowl is in the PAM stack of none of" in p.stdout
    (pam / "sshd").write_text(
        "account optional pam_accessowl.so enforce\n"
        "@include common-account\nsession optional pam_accessowl.so\n")
    p = check()
    [bad] = check_failures(p)
    assert bad == ("FAILED: PAM service sshd: `enforce` on an account line "
                   "with control `optional` cannot refuse a locked account; "
                   "fix: make it `account required pam_accessowl.so "
                   "enforce` in /etc/pam.d/sshd"), p.stdout
    (pam / "sshd").write_text(
        "account sufficient pam_succeed_if.so uid >= 1000\n"
        "account required pam_accessowl.so enforce\n"
        "@include common-account\nsession optional pam_accessowl.so\n")
    [bad] = check_failures(check())
    assert "`sufficient pam_succeed_if.so` comes before pam_accessowl" in bad
    (pam / "sshd").write_text(
        "account required pam_accessowl.so enforce\n"
        "@include common-account\nsession optional pam_accessowl.so\n")
    p = check()
    assert check_failures(p) == []
    assert "ok: PAM service sshd: pam_accessowl in the account and session " \
        "stacks (enforce)" in p.stdout
    sys_.close()
