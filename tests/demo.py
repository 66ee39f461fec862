#!/usr/bin/python3
"""make demo: the whole story on an embedded fake AccessOwl.

A throwaway account gets a password and is locked — inside a private mount
namespace over a copy of /etc when run as root, through pam_wrapper and a
fake user database otherwise — a login attempt goes through a real PAM
stack with pam_accessowl, the revocations arrive at the fake AccessOwl, and
`accessowl-helper status` ends the story.  Nothing on the host changes.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "integration"))

from harness import Env, Fake, HELPER, make_certs, new_token, uuid  # noqa: E402
from pamwrap import HASH, MODULE, PamWorld, wait_for  # noqa: E402

APPS = [("Slack", uuid("demo-slack")), ("GitHub", uuid("demo-github")),
        ("Figma", uuid("demo-figma"))]
ALICE = uuid("demo-alice")


def say(text=""):
    print(text, flush=True)


def step(n, text):
    say()
    say(f"\033[1m{n}. {text}\033[0m" if sys.stdout.isatty() else f"{n}. {text}")


def show(cmd_out, indent="   | "):
    for line in cmd_out.rstrip().splitlines():
        say(indent + line)


def result(p):
    """What PAM decided, as pamtester reports it."""
    if p.returncode == 0:
        return "PAM says success"
    return "PAM says: " + (p.stderr.strip().splitlines() or ["failure"])[-1]


def world():
    states = [{"id": uuid(f"demo-state-{t}"), "application_id": a,
               "grantee_user_id": ALICE, "effective_end": None}
              for t, a in APPS]
    states.append({"id": uuid("demo-old"), "application_id": APPS[0][1],
                   "grantee_user_id": ALICE,
                   "effective_end": "2025-03-01T00:00:00Z"})
    return {"users": [{"id": ALICE, "email": "alice@example.com",
                       "first_name": "Alice", "last_name": "Smith",
                       "status": "active"}],
            "applications": [{"id": a, "title": t} for t, a in APPS],
            "access_states": states}


def helper(env, *args):
    return subprocess.run([HELPER, "-c", str(env.config_path)] + list(args),
                          capture_output=True, text=True, timeout=120)


def as_root(tmp, env, fake):
    from rootenv import PrivateSystem, pamtester, write_pam_service
    system = PrivateSystem(tmp / "system")
    try:
        step(3, "A throwaway account in a private copy of /etc (mount "
                "namespace; the host is untouched)")
        system.useradd("alice", password="correct horse",
                       gecos="Alice Smith,,,,alice@example.com")
        say(f"   useradd alice, GECOS 'Alice Smith,,,,alice@example.com'; "
            f"password field: {system.shadow('alice')[1][:12]}...")
        args = f"helper={HELPER} config={env.config_path}"
        lines = ["auth     required pam_permit.so",
                 f"account  optional {MODULE} {args}",
                 "account  required pam_unix.so",
                 f"session  optional {MODULE} {args}",
                 "session  required pam_permit.so"]
        write_pam_service(system, "demo", lines)
        say("   PAM service 'demo' (the module observes; pam_unix decides):")
        for l in lines:
            say("   | " + l.replace(str(Path.cwd()) + "/", ""))
        p = pamtester(system, "demo", "alice", "acct_mgmt")
        say(f"   login attempt while unlocked: {result(p)}; nothing to do")

        step(4, "The administrator locks the account: usermod -L alice")
        system.run(["usermod", "-L", "alice"])
        say(f"   password field now: {system.shadow('alice')[1][:12]}...")
        t = time.monotonic()
        p = pamtester(system, "demo", "alice", "acct_mgmt", "open_session",
                      "close_session")
        say(f"   login attempt: {result(p)} in "
            f"{(time.monotonic() - t) * 1000:.0f} ms (pam_unix ignores the "
            "'!' marker, as it does for SSH key logins); pam_accessowl "
            "handed the event to accessowl-helper")
        return lambda: pamtester(system, "demo", "alice", "acct_mgmt")
    except BaseException:
        system.close()
        raise


def without_root(tmp, env, fake):
    step(3, "A throwaway account in a fake user database (pam_wrapper, "
            "nss_wrapper, uid_wrapper: no root needed)")
    w = PamWorld(env)
    w.add_user("alice", HASH, 2001, gecos="Alice Smith,,,,alice@example.com")
    svc = w.service("demo")
    say("   PAM service 'demo':")
    for l in (w.services / svc).read_text().splitlines():
        say("   | " + l)
    p, _ = w.pamtester(svc, "alice", "acct_mgmt")
    say(f"   login attempt while unlocked: {result(p)}; nothing to do")
    step(4, "The account is locked ('!' put before the password hash)")
    w.add_user("alice", "!" + HASH, 2001, gecos="Alice Smith,,,,alice@example.com")
    p, secs = w.pamtester(svc, "alice", "acct_mgmt", "open_session",
                          "close_session")
    say(f"   login attempt: {result(p)} in {secs * 1000:.0f} ms; "
        "pam_accessowl handed the event to accessowl-helper")
    return lambda: w.pamtester(svc, "alice", "acct_mgmt")


def main():
    for tool in ("pamtester",):
        if not shutil.which(tool):
            sys.exit(f"demo: {tool} is missing; run `make deps` (as root)")
    tmp = Path(tempfile.mkdtemp(prefix="accessowl-demo-"))
    os.chmod(tmp, 0o711)
    fake = None
    try:
        say("pam_accessowl demo: a locked Linux account loses its access in "
            "AccessOwl")
        step(1, "A fake AccessOwl on loopback (HTTPS, throwaway CA made now)")
        certs = make_certs(tmp / "certs")
        token = new_token()
        fake = Fake(tmp, certs, world(), (), token)
        say(f"   {fake.url}: Alice Smith <alice@example.com> holds "
            f"{', '.join(t for t, _ in APPS)} (and one access that ended)")

        step(2, "Configuration and token, then `accessowl-helper check`")
        # the address comes from the GECOS "other" field, which users
        # cannot change with chfn, and only in a domain listed here
        env = Env(tmp, certs, fake, token,
                  user="nobody" if os.geteuid() == 0 else None,
                  identity='gecos_email = true; '
                           'gecos_domains = [ "example.com" ];')
        say(f"   config {env.config_path}, token in its own 0640 file")
        show(helper(env, "check").stdout)

        again = (as_root if os.geteuid() == 0 else without_root)(tmp, env, fake)

        step(5, "What arrived at AccessOwl")
        if not wait_for(lambda: len(fake.revocations()) == len(APPS), 30):
            sys.exit("demo: the revocations did not arrive; see "
                     "`accessowl-helper status`:\n" + helper(env, "status").stdout)
        titles = {a: t for t, a in APPS}
        for r in fake.revocations():
            say(f"   POST /api/v1/access_revocations -> {titles[r['application_id']]}: "
                f"revocation {r['id'][:8]}..., {r['status']}")
        req = fake.posts()[0]
        say(f"   reason: \"{json.loads(req['body'])['reason']}\"")
        say(f"   Idempotency-Key: {req['headers']['idempotency-key']}")

        step(6, "Twenty more login attempts by the locked account")
        for _ in range(20):
            again()
        time.sleep(0.5)
        say(f"   still {len(fake.posts())} revocations: one episode, filed "
            "once")

        step(7, "accessowl-helper status")
        show(helper(env, "status").stdout)
        say()
        say("Done. Nothing on this machine was changed; the demo's files "
            f"were in {tmp} (removed now).")
    finally:
        if fake:
            fake.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
