"""Install, reinstall, remove and purge a .deb in a throwaway root; then
upgrade to it from an earlier version, downgrade and upgrade again; then
the same with the .rpm (rpm run in the throwaway root, scriptlets and all).

    unshare -m -p -f -n -i -u --propagation private \
        /usr/bin/python3 throwaway_root.py DEB WORKDIR OUT.json \
        [PREV_DEB RPM PREV_RPM]

PREV_DEB and PREV_RPM are the same tree built with a lower version.  For
those scenarios the root pretends that systemd runs (/run/systemd/system,
a policy-rc.d that allows, and in place of /usr/bin/systemctl, in the
overlay only, a script that writes its arguments to /tmp/systemctl.log
and passes unit-file operations on to the real one, offline),
so that the maintainer scripts' systemd steps run and show what they ask
for.

Run it only that way (test_packages.py does): every mount below is made in
a private mount namespace, and the script refuses to run when its mount
namespace is the one named by $AO_HOST_MNTNS (the caller's).

WORKDIR gets a tmpfs; in it an overlayfs whose lower layer is the host's /
(read-only to us: every write lands in the tmpfs), with fresh /proc (new
PID namespace), /run, /tmp and a /dev holding only null, zero, full, random
and urandom; /work and /root are hidden behind empty tmpfs.  No network (a
new network namespace), no /run/systemd/system, so maintainer scripts find
no systemd to talk to, and a policy-rc.d that denies every service start.
dpkg runs chrooted there.  When the namespace ends, all of it is gone.

After each step the script records the state of the root (files, owners,
modes, the accessowl user, /etc/pam.d/common-*, statoverrides, enabled
units) and the overlay's upper layer (what changed relative to the host),
and writes everything to OUT.json for the tests to judge.
"""
import hashlib
import json
import os
import stat
import subprocess
import sys

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
ENV = {"PATH": PATH, "LANG": "C.UTF-8", "HOME": "/root",
       "DEBIAN_FRONTEND": "noninteractive", "DEBCONF_NONINTERACTIVE_SEEN": "true"}

# Paths whose state is recorded after every step.
WATCH = [
    "/etc/accessowl", "/etc/accessowl/accessowl.conf", "/etc/accessowl/token",
    "/etc/cron.d/accessowl",
    "/var/spool/accessowl", "/var/lib/accessowl",
    "/usr/sbin/accessowl-helper",
    "/usr/share/pam-configs/accessowl",
    "/usr/lib/sysusers.d/accessowl.conf", "/usr/lib/tmpfiles.d/accessowl.conf",
    "/usr/share/man/man8/pam_accessowl.8.gz",
    "/usr/share/man/man8/accessowl-helper.8.gz",
    "/usr/share/man/man5/accessowl.conf.5.gz",
] + ["/lib/systemd/system/accessowl-%s.%s" % (w, t)
     for w in ("scan", "deliver") for t in ("service", "path", "timer")] + [
    "/lib/systemd/system/accessowl-metrics.service",
    "/lib/systemd/system/accessowl-metrics.timer",
    "/usr/share/accessowl/rsyslog/accessowl-collector.conf",
    "/etc/systemd/system/paths.target.wants/accessowl-scan.path",
    "/etc/systemd/system/paths.target.wants/accessowl-deliver.path",
    "/etc/systemd/system/timers.target.wants/accessowl-scan.timer",
    "/etc/systemd/system/timers.target.wants/accessowl-deliver.timer",
    "/var/lib/accessowl/scan.state",
    "/var/spool/accessowl/queue/1795000000-0123456789abcdef0123456789abcdef.json",
    "/usr/lib64/security/pam_accessowl.so",
]


def sh(*argv, **kw):
    kw.setdefault("check", True)
    return subprocess.run(argv, env=ENV, **kw)


class Root:
    def __init__(self, workdir):
        self.work = workdir
        self.upper = os.path.join(workdir, "upper")
        self.root = os.path.join(workdir, "root")

    def setup(self):
        w = self.work
        sh("mount", "-t", "tmpfs", "-o", "mode=0700", "tmpfs", w)
        for d in ("upper", "ovlwork", "root"):
            os.mkdir(os.path.join(w, d))
        sh("mount", "-t", "overlay", "overlay", "-o",
           "lowerdir=/,upperdir=%s,workdir=%s" % (self.upper, os.path.join(w, "ovlwork")),
           self.root)
        r = self.root
        for d, opts in (("tmp", "mode=1777"), ("run", "mode=0755"),
                        ("dev", "mode=0755"), ("work", "mode=0755"),
                        ("root", "mode=0700")):
            sh("mount", "-t", "tmpfs", "-o", opts, "tmpfs", os.path.join(r, d))
        for dev in ("null", "zero", "full", "random", "urandom"):
            p = os.path.join(r, "dev", dev)
            open(p, "w").close()
            sh("mount", "--bind", "/dev/" + dev, p)
        os.symlink("/proc/self/fd", os.path.join(r, "dev", "fd"))
        sh("mount", "-t", "proc", "proc", os.path.join(r, "proc"))
        os.makedirs(os.path.join(r, "run", "lock"), exist_ok=True)

    def run(self, script):
        """sh -c SCRIPT chrooted in the throwaway root."""
        p = subprocess.run(["chroot", self.root, "/bin/sh", "-c", script],
                           env=ENV, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        return {"rc": p.returncode, "out": p.stdout}

    def path(self, p):
        return os.path.join(self.root, p.lstrip("/"))

    def read(self, p):
        try:
            with open(self.path(p), encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def names(self):
        uids, gids = {}, {}
        for line in (self.read("/etc/passwd") or "").splitlines():
            f = line.split(":")
            if len(f) > 3:
                uids[int(f[2])] = f[0]
        for line in (self.read("/etc/group") or "").splitlines():
            f = line.split(":")
            if len(f) > 2:
                gids[int(f[2])] = f[0]
        return uids, gids

    def state(self):
        uids, gids = self.names()
        files = {}
        for p in WATCH:
            try:
                st = os.lstat(self.path(p))
            except FileNotFoundError:
                files[p] = None
                continue
            files[p] = {
                "type": ("dir" if stat.S_ISDIR(st.st_mode) else
                         "link" if stat.S_ISLNK(st.st_mode) else
                         "file" if stat.S_ISREG(st.st_mode) else "other"),
                "mode": "%04o" % stat.S_IMODE(st.st_mode),
                "owner": uids.get(st.st_uid, str(st.st_uid)),
                "group": gids.get(st.st_gid, str(st.st_gid)),
                "target": (os.readlink(self.path(p))
                           if stat.S_ISLNK(st.st_mode) else None),
            }
        user = [l for l in (self.read("/etc/passwd") or "").splitlines()
                if l.startswith("accessowl:")]
        group = [l for l in (self.read("/etc/group") or "").splitlines()
                 if l.startswith("accessowl:")]
        pam = {n: self.read("/etc/pam.d/common-" + n)
               for n in ("account", "session", "auth", "password",
                         "session-noninteractive")}
        return {
            "files": files,
            "user": user[0] if user else None,
            "group": group[0] if group else None,
            "pam": pam,
            "passwd": self.read("/etc/passwd"),
            "groupfile": self.read("/etc/group"),
            "statoverride": self.run("dpkg-statoverride --list || true")["out"],
            "status": self.run("dpkg-query -W -f='${db:Status-Abbrev}' "
                               "libpam-accessowl 2>/dev/null || true")["out"].strip(),
            "module": self.module_files(),
        }

    def module_files(self):
        found = []
        for d in ("lib", "usr/lib"):
            base = os.path.join(self.root, d)
            for sub in sorted(os.listdir(base)):
                p = os.path.join(base, sub, "security", "pam_accessowl.so")
                if os.path.lexists(p):
                    st = os.lstat(p)
                    uids, gids = self.names()
                    found.append({"path": "/%s/%s/security/pam_accessowl.so" % (d, sub),
                                  "mode": "%04o" % stat.S_IMODE(st.st_mode),
                                  "owner": uids.get(st.st_uid, str(st.st_uid)),
                                  "group": gids.get(st.st_gid, str(st.st_gid))})
        return found

    def upper_layer(self):
        """Everything the steps changed, relative to the host's /."""
        out = {}
        for dirpath, dirnames, filenames in os.walk(self.upper):
            dirnames.sort()
            for name in sorted(dirnames + filenames):
                full = os.path.join(dirpath, name)
                rel = "/" + os.path.relpath(full, self.upper)
                st = os.lstat(full)
                if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
                    out[rel] = "deleted"
                elif stat.S_ISDIR(st.st_mode):
                    out[rel] = "dir %04o" % stat.S_IMODE(st.st_mode)
                elif stat.S_ISLNK(st.st_mode):
                    out[rel] = "link " + os.readlink(full)
                elif stat.S_ISREG(st.st_mode):
                    with open(full, "rb") as f:
                        digest = hashlib.sha256(f.read()).hexdigest()[:16]
                    out[rel] = "file %04o %d:%d %s" % (
                        stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, digest)
                else:
                    out[rel] = "other"
        return out


# A queued event, as the service user leaves it: an upgrade must keep it.
QUEUED = "/var/spool/accessowl/queue/1795000000-0123456789abcdef0123456789abcdef.json"

# Pretend systemd runs: the maintainer scripts' systemd steps then run,
# and what they ask systemctl for is logged.  Unit-file operations (preset,
# enable, disable, is-enabled, mask, unmask) are passed on to the real
# systemctl with --root=/, which does them offline on the files, so the
# enablement links are real; starting, stopping and reloading are only
# logged.  upgrades() puts FAKE_SYSTEMCTL at /tmp/systemctl first.
FAKE_SYSTEMCTL = r"""#!/bin/sh
echo "$*" >> /tmp/systemctl.log
op= args=
for a; do
    case $a in
    --now|--system|--root=*|--no-reload) ;;
    -*) args="$args $a" ;;
    *) [ -n "$op" ] || op=$a; args="$args $a" ;;
    esac
done
case $op in
preset|enable|disable|reenable|is-enabled|mask|unmask)
    exec /usr/bin/systemctl.real --root=/ $args ;;
esac
exit 0
"""

FAKE_SYSTEMD = """
    set -e
    mkdir -p /run/systemd/system
    cp -p /usr/bin/systemctl /usr/bin/systemctl.real
    install -m 0755 /tmp/systemctl /usr/bin/systemctl
    printf '#!/bin/sh\\nexit 0\\n' > /usr/sbin/policy-rc.d
    : > /tmp/systemctl.log
    """

# The admin's marks: an edited config, a token, a queued event.
USE = """
    set -e
    echo '# the admin was here' >> /etc/accessowl/accessowl.conf
    [ -e /etc/accessowl/token ] || install -m 0640 -o root -g accessowl \\
        /dev/null /etc/accessowl/token
    echo not-a-real-token > /etc/accessowl/token
    install -d -m 0700 -o accessowl -g accessowl /var/spool/accessowl/queue
    echo '{}' > %s
    chown accessowl:accessowl %s
    : > /tmp/systemctl.log
    """ % (QUEUED, QUEUED)

LOG = " ; rc=$?; echo '--- systemctl:'; cat /tmp/systemctl.log; " \
    ": > /tmp/systemctl.log; exit $rc"

# What an upgrade must have kept, one fact a line.
CHECK = """
    grep -q 'the admin was here' /etc/accessowl/accessowl.conf && echo config-kept
    [ -s /etc/accessowl/token ] && echo token-kept
    [ -e %s ] && echo queue-kept
    /usr/sbin/accessowl-helper --version
    """ % QUEUED


def upgrades(r, step, prev_deb, rpm, prev_rpm):
    for src, dst in ((prev_deb, "/tmp/prev.deb"), (rpm, "/tmp/pkg.rpm"),
                     (prev_rpm, "/tmp/prev.rpm")):
        with open(src, "rb") as a, open(r.path(dst), "wb") as b:
            b.write(a.read())
    with open(r.path("/tmp/systemctl"), "w") as f:
        f.write(FAKE_SYSTEMCTL)
    step("deb_fake_systemd", FAKE_SYSTEMD)
    step("deb_prev_install", "dpkg -i /tmp/prev.deb" + LOG)
    step("deb_prev_use", USE)
    step("deb_upgrade", "dpkg -i /tmp/pkg.deb" + LOG)
    step("deb_check_upgrade", CHECK)
    step("deb_downgrade", "dpkg -i /tmp/prev.deb" + LOG)
    step("deb_check_downgrade", CHECK)
    step("deb_reupgrade", "dpkg -i /tmp/pkg.deb" + LOG)
    step("deb_reinstall", "dpkg -i /tmp/pkg.deb" + LOG)
    step("deb_final_purge", "dpkg -P libpam-accessowl" + LOG)
    # the .rpm from scratch: no user, no data (the token stays)
    step("rpm_baseline", """
        set -e
        if getent passwd accessowl >/dev/null; then userdel accessowl; fi
        if getent group accessowl >/dev/null; then groupdel accessowl; fi
        rm -rf /var/spool/accessowl /var/lib/accessowl /etc/accessowl
        rm -rf /var/lib/rpm && mkdir -p /var/lib/rpm && rpm --initdb
        : > /tmp/systemctl.log
        """)
    # --nodeps: the rpm database here knows none of the host's packages
    step("rpm_prev_install", "rpm -i --nodeps /tmp/prev.rpm" + LOG)
    step("rpm_prev_use", USE)
    step("rpm_upgrade", "rpm -U --nodeps /tmp/pkg.rpm" + LOG)
    step("rpm_check_upgrade", CHECK)
    step("rpm_query", "rpm -q --qf '%{VERSION}' pam_accessowl; echo; "
         "/usr/sbin/accessowl-helper --version")
    step("rpm_erase", "rpm -e --nodeps pam_accessowl" + LOG)


def main():
    deb, workdir, out_json = sys.argv[1:4]
    host_ns = os.environ.get("AO_HOST_MNTNS")
    if not host_ns or os.readlink("/proc/self/ns/mnt") == host_ns:
        sys.exit("throwaway_root.py: not in a private mount namespace; refusing")
    if os.getpid() != 1:
        sys.exit("throwaway_root.py: not in a private PID namespace; refusing")

    r = Root(workdir)
    r.setup()
    with open(deb, "rb") as src, open(r.path("/tmp/pkg.deb"), "wb") as dst:
        dst.write(src.read())
    result = {"steps": {}}

    def step(name, script):
        res = r.run(script)
        res["state"] = r.state()
        res["upper"] = r.upper_layer()
        result["steps"][name] = res
        return res

    # A known starting point, whatever the host has: no trace of the
    # package or its user, common-* written by pam-auth-update from the
    # profiles, and no service starts (policy-rc.d).  All in the copy.
    step("baseline", """
        set -e
        printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d
        chmod 0755 /usr/sbin/policy-rc.d
        if dpkg-query -W libpam-accessowl >/dev/null 2>&1; then dpkg -P libpam-accessowl; fi
        if getent passwd accessowl >/dev/null; then userdel accessowl; fi
        if getent group accessowl >/dev/null; then groupdel accessowl; fi
        rm -rf /etc/accessowl /var/spool/accessowl /var/lib/accessowl
        pam-auth-update --package --force
        """)
    step("install", "dpkg -i /tmp/pkg.deb")
    step("helper_version", "/usr/sbin/accessowl-helper --version")
    # an upgrade to the same version: postinst configure with $2 set
    step("reinstall", "dpkg -i /tmp/pkg.deb")
    # the admin follows postinst's two lines
    step("token", """
        set -e
        install -m 0640 -o root -g accessowl /dev/null /etc/accessowl/token
        echo not-a-real-token > /etc/accessowl/token
        """)
    step("remove", "dpkg -r libpam-accessowl")
    step("purge", "dpkg -P libpam-accessowl")
    if len(sys.argv) > 6:
        upgrades(r, step, *sys.argv[4:7])
    with open(out_json, "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
