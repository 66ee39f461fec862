"""Each failure: a clear one-line error, the documented exit code, no POST."""
import os

import pytest

from conftest import lines, need_root
from test_revoke import start


def one_error(p, code, *needles):
    assert p.returncode == code, (p.returncode, p.stdout, p.stderr)
    errs = lines(p.stderr)
    assert len(errs) == 1, p.stderr
    for n in needles:
        assert n in errs[0], (n, errs[0])
    return errs[0]


def test_bad_config_is_78_with_file_and_line(fake, env):
    f, e = start(fake, env, extra="\nevents: { lockd = true; };\n")
    p = e.run("revoke", "--user", "alice")
    one_error(p, 78, f"{e.config_path}:", "unknown key 'events.lockd'")
    assert f.requests() == []


def test_missing_config_is_78(fake, env, tmp_path):
    f, e = start(fake, env)
    e.config_path = tmp_path / "nope.conf"
    one_error(e.run("check"), 78, "nope.conf", "No such file")


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
    one_error(e.run("check"), 77, "not the service user's group")
    os.chown(e.token_path, -1, 65534)  # nogroup: nobody's group
    assert e.run("check").returncode == 0


def test_symlinked_token_is_refused(fake, env, tmp_path):
    f, e = start(fake, env)
    real = tmp_path / "real-token"
    os.rename(e.token_path, real)
    os.symlink(real, e.token_path)
    one_error(e.run("check"), 77, "symbolic link")


def test_empty_token_is_78(fake, env):
    f, e = start(fake, env)
    e.token_path.write_text("\n")
    one_error(e.run("check"), 78, "is empty")


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
    assert p.returncode == 0, p.stderr
    assert "accepted the token (HTTP 200)" in p.stdout
    assert len([r for r in f.requests()]) == 1
    f.stop()
    p = e.run("check")
    assert p.returncode == 75
    assert "FAILED" in p.stdout


def test_version():
    import subprocess
    from conftest import HELPER, ROOT
    p = subprocess.run([HELPER, "--version"], capture_output=True, text=True)
    assert p.stdout.strip() == "accessowl-helper " + \
        (ROOT / "VERSION").read_text().strip()
