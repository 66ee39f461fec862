"""pytest fixtures for the integration tests; the machinery is in
harness.py (shared with `make demo`).

Fixtures:
  certs      throwaway CA + server cert (tests/mkcerts.sh), per session
  fake       factory: fake(fixture_dict, *extra_args) -> running Fake
  env        factory: env(fake, **config) -> Env with .run(*helper_args)

Root-only tests call need_root(); they skip for a non-root developer but fail
under CI=true, where every prerequisite must be present.
"""
import os

import pytest

from harness import (CI, HELPER, ROOT, Env, Fake, lines, make_certs,  # noqa: F401
                     new_token, traversable, uuid)


def need_root():
    if os.geteuid() != 0:
        if CI:
            pytest.fail("this test needs root, and CI=true: run CI as root")
        pytest.skip("needs root")



@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    return make_certs(tmp_path_factory.mktemp("certs"))


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
def env(tmp_path, certs):
    traversable(tmp_path)

    def make(fake, **cfg):
        return Env(tmp_path, certs, fake, fake.token if fake else new_token(),
                   **cfg)
    return make
