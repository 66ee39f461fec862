"""A throwaway Debian 12 root with a policy store, for `make selinux-check`
(test_policy.py).  Free of pytest.

    tar = cached_root(cache_dir, policy_version)   # mmdebstrap once
    with PolicyRoot(tar) as r:                     # a fresh copy, unpacked
        r.sh("rpm -i --nodeps /tmp/x.rpm")         # chrooted
        r.policy()                                 # the binary policy file
    # the copy removed, nothing left on the host

The root: `mmdebstrap --variant=essential` of bookworm with
selinux-policy-default (the reference policy, Debian's build), at the
version of the host's selinux-policy-dev (the headers the module is
compiled against), policycoreutils (semodule) and rpm (to run the .rpm's
own scriptlets).  Its store is renamed from "default" to "targeted", the
name the .rpm's scriptlets act on; the tar is kept in the cache directory
(tests/debroot.py).

Safety, on a machine others use:
- nothing here loads a policy: every semodule call has -n, the root's
  config says SELINUX=disabled, and nothing is mounted in the chroot (no
  /proc, no /sys, no selinuxfs), so selinuxenabled is false in there and
  the .rpm's scriptlets skip load_policy and restorecon; mmdebstrap's own
  mounts live in a private mount namespace, and the config it installs
  with names no store that exists, so selinux-policy-default's postinst
  builds the store without reloading;
- the copy is unpacked under a temporary directory of its own and removed
  at the end, a failed check included.
"""
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import debroot  # noqa: E402
from debroot import ENV  # noqa: E402

STORE = "targeted"

# selinux-policy-default's postinst reads SELINUXTYPE: a name no store has,
# so that it builds the store with -n whatever the host runs
SETUP_HOOK = ('mkdir -p "$1/etc/selinux" && printf "SELINUX=disabled\\n'
              'SELINUXTYPE=none\\n" > "$1/etc/selinux/config"')
CUSTOMIZE_HOOK = (
    'mv "$1/etc/selinux/default" "$1/etc/selinux/%(s)s" && '
    'mv "$1/var/lib/selinux/default" "$1/var/lib/selinux/%(s)s" && '
    'printf "SELINUX=disabled\\nSELINUXTYPE=%(s)s\\n" > "$1/etc/selinux/config"'
    ' && chroot "$1" rpm --initdb' % {"s": STORE})


class RootError(Exception):
    pass


def host_policy_version():
    """The version of the host's selinux-policy-dev: the headers."""
    p = subprocess.run(["dpkg-query", "-W", "-f", "${Version}",
                        "selinux-policy-dev"], capture_output=True, text=True)
    if p.returncode != 0 or not p.stdout:
        raise RootError("selinux-policy-dev is not installed (make deps "
                        "installs it)")
    return p.stdout


def cached_root(cache_dir, version, log=print):
    """The tar of the root, with selinux-policy-default at version: from
    cache_dir, or built there now (about a minute)."""
    pkgs = ["selinux-policy-default=" + version, "policycoreutils",
            "selinux-utils", "rpm"]
    try:
        return debroot.cached_tar(
            cache_dir, "selinux",
            {"variant": "essential", "packages": pkgs, "setup": SETUP_HOOK,
             "customize": CUSTOMIZE_HOOK, "layout": 1},
            ["--variant=essential", "--setup-hook=" + SETUP_HOOK,
             "--customize-hook=" + CUSTOMIZE_HOOK,
             "--include=" + ",".join(pkgs)], log)
    except debroot.MmdebstrapFailed as e:
        raise RootError(
            "mmdebstrap failed: it needs Debian's package mirror, and "
            f"selinux-policy-default {version} there (the version of the "
            "host's selinux-policy-dev; after a point release, "
            "`apt-get install selinux-policy-dev` brings the host up to "
            "date):\n%s" % e)


class PolicyRoot:
    def __init__(self, tar):
        self.tar = Path(tar)
        self.work = None
        self.root = None

    def __enter__(self):
        try:
            self.work, self.root = debroot.unpack(self.tar, "ao-selinux-")
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.work is not None:
            shutil.rmtree(self.work, ignore_errors=True)
            self.work = None

    def sh(self, script, check=True, timeout=300):
        """Run a shell script chrooted into the root, in a private mount
        namespace; nothing is mounted in there."""
        p = subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "--",
             "chroot", str(self.root), "/bin/sh", "-ec", script],
            env=ENV, stdin=subprocess.DEVNULL, capture_output=True,
            text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise RootError("in the policy root: %s\nexit %d\n%s%s" % (
                script, p.returncode, p.stdout, p.stderr))
        return p

    def put(self, src, name):
        """Copy a host file into the root's /tmp; its path in the root."""
        dst = self.root / "tmp" / name
        shutil.copyfile(src, dst)
        return "/tmp/" + name

    def policy(self):
        """The binary policy the store built last."""
        pol = sorted((self.root / "etc/selinux" / STORE / "policy").glob(
            "policy.*"))
        if not pol:
            raise RootError("the store has no binary policy")
        return pol[-1]

    def file_contexts(self):
        return self.root / "etc/selinux" / STORE / "contexts/files/file_contexts"

    def save_file_contexts(self, dst):
        """Keep a copy of the current file contexts, with the path
        equivalences beside it (/var/run is /run, /sbin is /usr/sbin)."""
        src = self.file_contexts()
        shutil.copyfile(src, dst)
        for ext in (".subs_dist", ".subs"):
            if Path(str(src) + ext).is_file():
                shutil.copyfile(str(src) + ext, str(dst) + ext)
        return Path(dst)

    def modules(self):
        """semodule -l: the modules in the store."""
        return self.sh("semodule -s %s -l" % STORE).stdout.split()

    def install(self, pp):
        """semodule -n -i, as the .rpm's fallback scriptlet does."""
        path = self.put(pp, Path(pp).name)
        self.sh("semodule -n -s %s -X 200 -i %s" % (STORE, path))

    def remove(self, name):
        self.sh("semodule -n -s %s -X 200 -r %s" % (STORE, name))

    def save_policy(self, dst):
        """Keep a copy of the current binary policy (the next install
        replaces it)."""
        shutil.copyfile(self.policy(), dst)
        return Path(dst)
