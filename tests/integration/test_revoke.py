"""accessowl-helper revoke: the right POSTs, once each, with the right headers."""
import json
import re
import socket

import pytest

from conftest import lines, uuid

ALICE = uuid("alice")
APP_IN1, APP_IN2, APP_OUT = uuid("app-in-1"), uuid("app-in-2"), uuid("app-out")
ACTIVE = [uuid(f"alice-active-{i}") for i in range(3)]
ENDED = uuid("alice-ended")
OUT_OF_SCOPE = uuid("alice-out-of-scope")


def world(extra_users=0):
    """Alice: 3 active in-scope states among 120 of hers (1 ended recently,
    1 in an out-of-scope application, 115 long ended), plus other people's
    active states, so a client that skips paging or filtering gets it wrong."""
    users = [{"id": ALICE, "email": "alice.smith@example.com",
              "status": "active", "first_name": "Alice", "last_name": None},
             {"id": uuid("bob"), "email": "bob@example.com", "status": "active"}]
    users += [{"id": uuid(f"u{i}"), "email": f"user{i}@example.com",
               "status": "inactive" if i % 3 else "active"}
              for i in range(extra_users)]
    apps = [{"id": a, "title": t} for a, t in
            ((APP_IN1, "Slack"), (APP_IN2, "GitHub"), (APP_OUT, "Figma"))]
    states = []
    for i in range(115):
        states.append({"id": uuid(f"alice-old-{i}"), "application_id": APP_IN1,
                       "grantee_user_id": ALICE,
                       "effective_start": "2020-01-01T00:00:00Z",
                       "effective_end": "2021-01-01T00:00:00Z"})
    # the active ones land after the first page of 100
    states.append({"id": ACTIVE[0], "application_id": APP_IN1,
                   "grantee_user_id": ALICE, "effective_end": None})
    states.append({"id": ENDED, "application_id": APP_IN2,
                   "grantee_user_id": ALICE,
                   "effective_end": "2026-11-01T00:00:00Z"})
    states.append({"id": ACTIVE[1], "application_id": APP_IN2,
                   "grantee_user_id": ALICE, "effective_end": None,
                   "resource_id": uuid("repo")})
    states.append({"id": OUT_OF_SCOPE, "application_id": APP_OUT,
                   "grantee_user_id": ALICE, "effective_end": None})
    # two Slack states told apart by their permissions, as real ones are
    states.append({"id": ACTIVE[2], "application_id": APP_IN1,
                   "grantee_user_id": ALICE, "effective_end": None,
                   "target_permission_ids": [uuid("slack-admin")]})
    # someone else's active state, and an unlinked account
    states.append({"id": uuid("bob-1"), "application_id": APP_IN1,
                   "grantee_user_id": uuid("bob"), "effective_end": None})
    states.append({"id": uuid("unlinked"), "application_id": APP_IN1,
                   "grantee_user_id": None, "effective_end": None})
    return {"users": users, "applications": apps, "access_states": states}


ALICE_MAP = 'map = ( { user = "alice"; email = "Alice.Smith@EXAMPLE.com"; } );'
SCOPE = f'applications = [ "{APP_IN1}", "{APP_IN2}" ];'


def start(fake, env, *fake_args, **cfg):
    f = fake(world(cfg.pop("extra_users", 0)), *fake_args)
    e = env(f, identity=cfg.pop("identity", ALICE_MAP),
            scope=cfg.pop("scope", SCOPE), **cfg)
    return f, e


def check_posts(f, e, posts):
    """Exactly one POST per active in-scope state, right headers and body."""
    assert sorted(json.loads(p["body"])["access_state_id"] for p in posts) \
        == sorted(ACTIVE)
    keys = set()
    for p in posts:
        h = p["headers"]
        assert h["authorization"] == f"Bearer {e.token}"
        assert h["content-type"] == "application/json"
        key = h["idempotency-key"]
        assert 1 <= len(key) <= 255 and key.isascii() and key.isprintable()
        keys.add(key)
        body = json.loads(p["body"])
        assert set(body) == {"access_state_id", "reason"}
        reason = body["reason"]
        assert len(reason.encode()) <= 255
        assert "alice" in reason and "pam_accessowl" in reason
        assert socket.gethostname() in reason
        assert "revoked by an administrator" in reason
    assert len(keys) == len(posts)


@pytest.mark.parametrize("fake_args", [
    (),
    ("--ignore-state-filter",),
    ("--envelope", "bare", "--meta", "both"),
])
def test_revoke_files_each_active_state_once(fake, env, fake_args):
    f, e = start(fake, env, *fake_args)
    p = e.run("revoke", "--user", "alice")
    assert p.returncode == 0, p.stderr
    posts = f.posts()
    assert len(posts) == 3
    check_posts(f, e, posts)
    assert sorted(r["access_state_id"] for r in f.revocations()) == sorted(ACTIVE)
    # one line per state, with the revocation id the server gave
    out = lines(p.stdout)
    assert len(out) == 3
    ids = {r["access_state_id"]: r["id"] for r in f.revocations()}
    for s in ACTIVE:
        [l] = [l for l in out if s in l]
        assert l.startswith("filed\t") and ids[s] in l
        assert "processing_access" in l
    assert "Slack" in p.stdout and "GitHub" in p.stdout
    # the listing had to page: 120+ rows at 100 a page
    gets = [r for r in f.requests() if r["path"] == "/api/v1/access_states"]
    assert len(gets) >= 2
    assert all(r["query"].get("limit") == "100" for r in gets)
    assert all(r["query"].get("grantee_user_id") == ALICE for r in gets)
    # person lookup: by e-mail, all statuses
    users = [r for r in f.requests() if r["path"] == "/api/v1/users"]
    assert users[0]["query"]["status"] == "all"
    assert users[0]["query"]["email"].lower() == "alice.smith@example.com"


def test_page_based_meta(fake, env):
    """The documented page-shaped meta (no next_cursor) is followed too."""
    f, e = start(fake, env, "--meta", "page")
    p = e.run("revoke", "--user", "alice")
    assert p.returncode == 0, p.stderr
    check_posts(f, e, f.posts())
    assert len(f.posts()) == 3


def test_scope_empty_means_every_application(fake, env):
    f, e = start(fake, env, scope="")
    p = e.run("revoke", "--user", "alice")
    assert p.returncode == 0, p.stderr
    got = sorted(json.loads(x["body"])["access_state_id"] for x in f.posts())
    assert got == sorted(ACTIVE + [OUT_OF_SCOPE])


def test_dry_run_sends_no_post(fake, env):
    f, e = start(fake, env)
    p = e.run("revoke", "--user", "alice", "--dry-run")
    assert p.returncode == 0, p.stderr
    assert f.posts() == []
    out = lines(p.stdout)
    assert len(out) == 3 and all(l.startswith("would revoke\t") for l in out)
    assert {s for s in ACTIVE if any(s in l for l in out)} == set(ACTIVE)


def test_a_dry_run_writes_nothing(fake, env):
    """Not even the address remembered for an account seen the first time:
    the state directory is as it was before the dry run (but for the count
    of API requests, which the dry run did spend of the budget)."""
    import os

    def files():
        return sorted(p for p in (
            os.path.relpath(os.path.join(d, n), e.state)
            for d, _, ns in os.walk(e.state) for n in ns)
            if not p.startswith("metrics/"))
    f, e = start(fake, env)
    before = files()
    p = e.run("revoke", "--user", "alice", "--dry-run")
    assert p.returncode == 0, p.stderr
    assert files() == before, files()
    assert not (e.state / "people" / "alice").exists()
    assert not e.spool.exists() or not any(e.spool.rglob("*.json"))


def test_email_filter_ignored_falls_back_to_paging(fake, env):
    f, e = start(fake, env, "--ignore-email-filter", extra_users=250)
    p = e.run("revoke", "--user", "alice")
    assert p.returncode == 0, p.stderr
    assert len(f.posts()) == 3
    users = [r for r in f.requests() if r["path"] == "/api/v1/users"]
    paged = [r for r in users if "email" not in r["query"]]
    assert len(paged) >= 3  # 252 people at 100 a page
    assert all(r["query"]["status"] == "all" for r in users)


def test_second_revoke_is_a_new_event(fake, env):
    """A later revoke by hand is a new event with new keys; what the first
    left pending is not filed again, what was turned down is."""
    f, e = start(fake, env)
    assert e.run("revoke", "--user", "alice").returncode == 0
    p = e.run("revoke", "--user", "alice")
    assert p.returncode == 0
    assert p.stdout.count("already pending\t") == 3
    assert len(f.posts()) == 3
    for r in f.revocations():
        f.control("POST", f"/_fake/revocations/{r['id']}",
                  {"status": "rejected"})
    assert e.run("revoke", "--user", "alice").returncode == 0
    posts = f.posts()
    assert len(posts) == 6
    assert len({p["headers"]["idempotency-key"] for p in posts}) == 6
    assert all(p["status"] == 201 for p in posts)


def test_long_utf8_account_name_reason_is_cut(fake, env):
    name = "ü" * 100  # 200 bytes: the reason must be cut, on a boundary
    f, e = start(fake, env,
                 identity=f'map = ( {{ user = "{name}"; email = "alice.smith@example.com"; }} );')
    p = e.run("revoke", "--user", name)
    assert p.returncode == 0, p.stderr
    posts = f.posts()
    assert len(posts) == 3 and all(x["status"] == 201 for x in posts)
    for x in posts:
        reason = json.loads(x["body"])["reason"]  # valid JSON and UTF-8
        assert 240 <= len(reason.encode()) <= 255
        assert reason.startswith("Linux account üü")


def test_nothing_to_revoke(fake, env):
    f, e = start(fake, env, scope=f'applications = [ "{uuid("none")}" ];')
    p = e.run("revoke", "--user", "alice")
    assert p.returncode == 0, p.stderr
    assert "nothing to revoke" in p.stdout
    assert f.posts() == []
