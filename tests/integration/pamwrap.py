"""Run pam_accessowl through real libpam without root.

pam_wrapper gives pamtester a private PAM service directory; uid_wrapper
makes the module believe it runs as root; nss_wrapper serves passwd and
shadow from files of ours (with tests/shim/spshim.c, since nss_wrapper does
not wrap getspnam_r).  The module starts its helper with an empty
environment, as it must, so `helper=` names a small script that restores
nss_wrapper for the helper, which then runs as the real user.
"""
import os
import subprocess
import time
from pathlib import Path

from harness import HELPER, ROOT

LIBDIR = Path("/usr/lib/x86_64-linux-gnu")
MODULE = os.environ.get("AO_MODULE", str(ROOT / "build" / "pam_accessowl.so"))
SHIM = ROOT / "build" / "tests" / "libspshim.so"

HASH = "$6$saltsalt$" + "x" * 86     # a real-looking SHA-512 crypt hash


def asan_runtime():
    """An ASan-built helper (make asan) needs its runtime preloaded first."""
    out = subprocess.run(["ldd", HELPER], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if "libasan" in line and "=>" in line:
            return [line.split("=>")[1].split()[0]]
    return []


class PamWorld:
    def __init__(self, env):
        self.env = env
        self.dir = env.tmp / "pamwrap"
        self.dir.mkdir()
        os.chmod(self.dir, 0o711)
        self.services = self.dir / "services"
        self.services.mkdir()
        self.passwd = self.dir / "passwd"
        self.shadow = self.dir / "shadow"
        self.group = self.dir / "group"
        self.spawns = self.dir / "spawns"
        self.users = {}
        me = os.getuid()
        self.base_users = [
            f"root:x:0:0:root:/root:/bin/sh",
            f"nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin",
        ]
        if me not in (0, 65534):
            import pwd
            p = pwd.getpwuid(me)
            self.base_users.append(f"{p.pw_name}:x:{me}:{p.pw_gid}::/:/bin/sh")
        self.group.write_text(f"root:x:0:\nnogroup:x:65534:\n"
                              f"users:x:{os.getgid()}:\n")
        self.wrapper = self.dir / "helper.sh"
        nss = " ".join(str(p) for p in (asan_runtime() + [SHIM, LIBDIR / "libnss_wrapper.so"]))
        self.childenv = self.dir / "child-env"
        self.childfds = self.dir / "child-fds"
        self.wrapper.write_text(f"""#!/bin/sh
echo "$@" >> {self.spawns}
env > {self.childenv}
ls -l /proc/$$/fd > {self.childfds}
export LD_PRELOAD="{nss}"
export NSS_WRAPPER_PASSWD={self.passwd} NSS_WRAPPER_GROUP={self.group}
export NSS_WRAPPER_SHADOW={self.shadow}
exec {HELPER} "$@"
""")
        os.chmod(self.wrapper, 0o755)
        self.write_db()

    def add_user(self, name, pw, uid, gecos="", expire="", lstchg=19000,
                 maxdays="", inact=""):
        self.users[name] = (uid, gecos, f"{name}:{pw}:{lstchg}:0:{maxdays}:7:"
                                        f"{inact}:{expire}:")
        self.write_db()

    def write_db(self):
        lines = list(self.base_users)
        for n, (uid, gecos, _) in self.users.items():
            lines.append(f"{n}:x:{uid}:{os.getgid()}:{gecos}:/:/bin/sh")
        self.passwd.write_text("\n".join(lines) + "\n")
        sh = ["root:*:19000:0:99999:7:::", "nobody:*:19000:0:99999:7:::"]
        sh += [u[2] for u in self.users.values()]
        self.shadow.write_text("\n".join(sh) + "\n")
        for f in (self.passwd, self.group, self.shadow):
            os.chmod(f, 0o644)

    def service(self, name, with_module=True, account_final="pam_permit.so"):
        args = (f"helper={self.wrapper} config={self.env.config_path} "
                f"run_dir={self.env.tmp}/run debug")
        lines = ["auth required pam_permit.so"]
        if with_module:
            lines.append(f"account optional {MODULE} {args}")
        lines.append(f"account required {account_final}")
        if with_module:
            lines.append(f"session optional {MODULE} {args}")
        lines.append("session required pam_permit.so")
        (self.services / name).write_text("\n".join(lines) + "\n")
        return name

    def pam_env(self):
        pre = " ".join(str(p) for p in (
            LIBDIR / "libpam_wrapper.so", LIBDIR / "libuid_wrapper.so",
            SHIM, LIBDIR / "libnss_wrapper.so"))
        return dict(os.environ, LD_PRELOAD=pre, PAM_WRAPPER="1",
                    PAM_WRAPPER_SERVICE_DIR=str(self.services),
                    UID_WRAPPER="1", UID_WRAPPER_ROOT="1",
                    NSS_WRAPPER_PASSWD=str(self.passwd),
                    NSS_WRAPPER_GROUP=str(self.group),
                    NSS_WRAPPER_SHADOW=str(self.shadow))

    def pamtester(self, service, user, *ops, prefix=()):
        ops = ops or ("acct_mgmt", "open_session", "close_session")
        t = time.monotonic()
        p = subprocess.run(list(prefix) + ["pamtester", "-v", service, user]
                           + list(ops), env=self.pam_env(),
                           capture_output=True, text=True, timeout=120)
        return p, time.monotonic() - t

    def spawn_count(self):
        return len(self.spawns.read_text().splitlines()) \
            if self.spawns.exists() else 0


def wait_for(pred, timeout=30, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()
