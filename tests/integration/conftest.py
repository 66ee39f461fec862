"""pytest fixtures for the integration tests; the machinery is in
harness.py (shared with `make demo`).

Fixtures:
  certs      throwaway CA + server cert (tests/mkcerts.sh), per session
  fake       factory: fake(fixture_dict, *extra_args) -> running Fake
  env        factory: env(fake, **config) -> Env with .run(*helper_args)
  locked_alice  (root) (fake, env, system): alice locked with usermod -L in
             a PrivateSystem whose syslog the test reads

Root-only tests call need_root(); they skip for a non-root developer but fail
under CI=true, where every prerequisite must be present.
"""
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from harness import (CI, HELPER, ROOT, Env, Fake, lines, make_certs,  # noqa: F401
                     new_token, uuid, check_failures, NO_RUNNER)


def need_root():
    if os.geteuid() != 0:
        if CI:
            pytest.fail("this test needs root, and CI=true: run CI as root")
        pytest.skip("needs root")



@pytest.fixture(scope="session")
def service_tmp():
    """A directory the service user can traverse, outside pytest's own
    temporary tree: pytest makes /tmp/pytest-of-<user> 0700 again whenever
    any pytest session starts (another suite on the machine, say), which
    would cut the helper off after its privilege drop mid-run."""
    d = Path(tempfile.mkdtemp(prefix="accessowl-tests-"))
    os.chmod(d, 0o711)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def certs(service_tmp):
    d = service_tmp / "certs"
    d.mkdir()
    return make_certs(d)


@pytest.fixture
def fake(tmp_path, certs):
    made = []
    token = new_token()

    def make(fixture, *args):
        f = Fake(tmp_path, certs, fixture, args, token)
        made.append(f)
        return f

    yield make
    for f in made:
        f.stop()


@pytest.fixture
def env(service_tmp, certs):
    def make(fake, **cfg):
        return Env(service_tmp, certs, fake,
                   fake.token if fake else new_token(), **cfg)
    return make


@pytest.fixture
def locked_alice(fake, env, tmp_path):
    from rootenv import PrivateSystem, require
    from worlds import people
    require()
    f = fake(people("alice"))
    e = env(f, identity='email_domain = "example.com";')
    s = PrivateSystem(tmp_path / "sys", syslog=True)
    try:
        s.useradd("alice", password="pw-alice")
        s.run(["usermod", "-L", "alice"])
        yield f, e, s
    finally:
        s.close()
