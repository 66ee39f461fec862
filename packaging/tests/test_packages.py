"""make package-check: what the .deb and the .rpm contain, and what the .deb
does to a host (installed, reinstalled, removed, purged in a throwaway root,
see throwaway_root.py).

AO_DEB, AO_RPM and AO_VERSION name the packages and the version (the
packaging.mk target sets them); by default build/ and the VERSION file.
Needs root (dpkg in a private mount namespace); skips for a developer who is
not root, fails under CI=true.
"""
import json
import os
import re
import shutil
import subprocess
import tarfile
import io
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CI = os.environ.get("CI") == "true"
VERSION = os.environ.get("AO_VERSION") or (TOP / "VERSION").read_text().strip()
MULTIARCH = subprocess.run(["dpkg-architecture", "-qDEB_HOST_MULTIARCH"],
                           capture_output=True, text=True, check=True).stdout.strip()
DEB_ARCH = subprocess.run(["dpkg-architecture", "-qDEB_HOST_ARCH"],
                          capture_output=True, text=True, check=True).stdout.strip()
DEB = Path(os.environ.get("AO_DEB") or
           TOP / "build" / ("libpam-accessowl_%s_%s.deb" % (VERSION, DEB_ARCH)))
RPM = Path(os.environ.get("AO_RPM") or
           next(iter(sorted((TOP / "build").glob("pam_accessowl-%s-1.*.rpm" % VERSION))),
                TOP / "build" / "missing.rpm"))

RPM_SELINUX = Path(os.environ.get("AO_RPM_SELINUX") or
                   TOP / "build" / ("pam_accessowl-selinux-%s-1.noarch.rpm" % VERSION))

# the same tree built with a lower version (make package-check)
PREV_DEB = os.environ.get("AO_PREV_DEB")
PREV_RPM = os.environ.get("AO_PREV_RPM")
PREV_VERSION = os.environ.get("AO_PREV_VERSION")

UNITS = ["accessowl-%s.%s" % (w, t) for w in ("scan", "deliver")
         for t in ("service", "path", "timer")] + \
    ["accessowl-metrics.service", "accessowl-metrics.timer"]
ENABLED = {"accessowl-scan.path": "paths.target.wants",
           "accessowl-deliver.path": "paths.target.wants",
           "accessowl-scan.timer": "timers.target.wants",
           "accessowl-deliver.timer": "timers.target.wants"}

# path -> (mode, owner, group) in the .deb (the group of the config becomes
# accessowl in postinst: the group does not exist at build time)
DEB_EXPECT = {
    "/etc/accessowl/": ("drwxr-xr-x", "root", "root"),
    "/etc/accessowl/accessowl.conf": ("-rw-r-----", "root", "root"),
    "/etc/cron.d/accessowl": ("-rw-r--r--", "root", "root"),
    "/lib/%s/security/pam_accessowl.so" % MULTIARCH: ("-rw-r--r--", "root", "root"),
    "/usr/sbin/accessowl-helper": ("-rwxr-xr-x", "root", "root"),
    "/usr/lib/sysusers.d/accessowl.conf": ("-rw-r--r--", "root", "root"),
    "/usr/lib/tmpfiles.d/accessowl.conf": ("-rw-r--r--", "root", "root"),
    "/usr/share/pam-configs/accessowl": ("-rw-r--r--", "root", "root"),
    "/usr/share/accessowl/rsyslog/accessowl-collector.conf":
        ("-rw-r--r--", "root", "root"),
    "/usr/share/man/man8/pam_accessowl.8.gz": ("-rw-r--r--", "root", "root"),
    "/usr/share/man/man8/accessowl-helper.8.gz": ("-rw-r--r--", "root", "root"),
    "/usr/share/man/man5/accessowl.conf.5.gz": ("-rw-r--r--", "root", "root"),
    "/usr/share/doc/libpam-accessowl/copyright": ("-rw-r--r--", "root", "root"),
    "/usr/share/lintian/overrides/libpam-accessowl": ("-rw-r--r--", "root", "root"),
}
DEB_EXPECT.update({"/lib/systemd/system/" + u: ("-rw-r--r--", "root", "root")
                   for u in UNITS})

RPM_EXPECT = {
    "/etc/accessowl": ("drwxr-xr-x", "root", "root"),
    "/etc/accessowl/accessowl.conf": ("-rw-r-----", "root", "accessowl"),
    "/etc/cron.d/accessowl": ("-rw-r--r--", "root", "root"),
    "/usr/lib64/security/pam_accessowl.so": ("-rwxr-xr-x", "root", "root"),
    "/usr/sbin/accessowl-helper": ("-rwxr-xr-x", "root", "root"),
    "/usr/lib/sysusers.d/accessowl.conf": ("-rw-r--r--", "root", "root"),
    "/usr/lib/tmpfiles.d/accessowl.conf": ("-rw-r--r--", "root", "root"),
    "/usr/share/accessowl/rsyslog/accessowl-collector.conf":
        ("-rw-r--r--", "root", "root"),
    "/var/spool/accessowl": ("drwx------", "accessowl", "accessowl"),
    "/var/lib/accessowl": ("drwx------", "accessowl", "accessowl"),
}
RPM_EXPECT.update({"/usr/lib/systemd/system/" + u: ("-rw-r--r--", "root", "root")
                   for u in UNITS})
RPM_MAN = ["/usr/share/man/man8/pam_accessowl.8", "/usr/share/man/man8/accessowl-helper.8",
           "/usr/share/man/man5/accessowl.conf.5"]


def need(path):
    if not path.is_file():
        msg = "%s missing: run `make package-check`" % path
        if CI:
            pytest.fail(msg)
        pytest.skip(msg)


def run(*argv, **kw):
    p = subprocess.run(argv, capture_output=True, text=True, **kw)
    assert p.returncode == 0, "%s: %s%s" % (argv, p.stdout, p.stderr)
    return p.stdout


def deb_listing():
    need(DEB)
    out = {}
    for line in run("dpkg-deb", "-c", str(DEB)).splitlines():
        # drwxr-xr-x root/root         0 2026-11-27 03:56 ./etc/
        m = re.match(r"^(\S{10}) (\S+)/(\S+)\s+\d+ \S+ \S+ \.(/\S*?)(?: -> .*)?$", line)
        assert m, "unparsed dpkg-deb -c line: %r" % line
        out[m.group(4)] = (m.group(1), m.group(2), m.group(3))
    return out


# ---------------------------------------------------------------- the .deb

def test_deb_name_and_version():
    need(DEB)
    assert DEB.name == "libpam-accessowl_%s_%s.deb" % (VERSION, DEB_ARCH)
    fields = run("dpkg-deb", "-f", str(DEB), "Package", "Version", "Architecture")
    assert fields.split() == ["Package:", "libpam-accessowl", "Version:", VERSION,
                              "Architecture:", DEB_ARCH]


def test_deb_recommends_what_starts_scan_and_deliver():
    """Without systemd and without cron nothing runs scan and deliver."""
    need(DEB)
    rec = run("dpkg-deb", "-f", str(DEB), "Recommends").strip()
    assert rec == "systemd-sysv | cron-daemon", rec


def test_deb_paths_owners_modes():
    listing = deb_listing()
    wrong = {p: (listing.get(p), want) for p, want in DEB_EXPECT.items()
             if listing.get(p) != want}
    assert not wrong, "path: (in the .deb, expected)\n%s" % "\n".join(
        "%s: %s" % kv for kv in sorted(wrong.items()))
    # nothing else but directories and the documentation
    extra = [p for p, (mode, _, _) in listing.items()
             if p not in DEB_EXPECT and not mode.startswith("d")
             and not p.startswith("/usr/share/doc/libpam-accessowl/")]
    assert not extra, "unexpected files in the .deb: %s" % extra
    # root-owned throughout, nothing setuid, nothing world-writable
    for p, (mode, owner, group) in listing.items():
        assert (owner, group) == ("root", "root"), p
        assert "s" not in mode and "S" not in mode and mode[8] != "w", (p, mode)
    # no token in the package
    assert not any("token" in p for p in listing)


def test_deb_license_and_maintainer(tmp_path):
    need(DEB)
    maint = run("dpkg-deb", "-f", str(DEB), "Maintainer").strip()
    # set at build time from DEBFULLNAME and DEBEMAIL
    assert maint == os.environ.get("AO_MAINTAINER", maint)
    assert re.fullmatch(r"[^<>]+ <[^<>@ ]+@[^<>@ ]+>", maint), maint
    run("dpkg-deb", "-x", str(DEB), str(tmp_path))
    doc = tmp_path / "usr/share/doc/libpam-accessowl"
    cr = (doc / "copyright").read_text()
    assert "License: BSD-3-Clause" in cr
    assert "GPL-3.0-or-later" in cr and "librelp" in cr
    log = subprocess.run(["zcat", str(doc / "changelog.gz")],
                         capture_output=True, text=True).stdout
    assert " -- %s  " % maint in log


def test_deb_conffiles_and_scripts(tmp_path):
    need(DEB)
    run("dpkg-deb", "-e", str(DEB), str(tmp_path / "c"))
    conffiles = (tmp_path / "c" / "conffiles").read_text().split()
    assert sorted(conffiles) == ["/etc/accessowl/accessowl.conf", "/etc/cron.d/accessowl"]
    prerm = (tmp_path / "c" / "prerm").read_text()
    # removed under the exact name it was added with: the profile's file name
    assert "pam-auth-update --package --remove accessowl\n" in prerm
    assert "pam-auth-update --package\n" in (tmp_path / "c" / "postinst").read_text()
    with tarfile.open(fileobj=io.BytesIO(subprocess.run(
            ["dpkg-deb", "--fsys-tarfile", str(DEB)], capture_output=True,
            check=True).stdout)) as tar:
        text = tar.extractfile("./usr/share/pam-configs/accessowl").read().decode()
    assert re.search(r"^Default: (yes|no)$", text, re.M)
    assert re.search(r"^Account-Type: Additional$", text, re.M)
    assert re.search(r"^Session-Type: Additional$", text, re.M)
    assert re.search(r"^Account:\n\toptional\tpam_accessowl\.so$", text, re.M)
    assert re.search(r"^Session:\n\toptional\tpam_accessowl\.so$", text, re.M)


# ---------------------------------------------------------------- the .rpm

def rpm_files():
    need(RPM)
    out = run("rpm", "-qp", "--qf",
              "[%{FILEMODES:perms} %{FILEUSERNAME} %{FILEGROUPNAME} %{FILEFLAGS:fflags} %{FILENAMES}\n]",
              str(RPM))
    files = {}
    for line in out.splitlines():
        mode, owner, group, flags, path = line.split(" ", 4)
        files[path] = (mode, owner, group, flags)
    return files


def test_rpm_version():
    need(RPM)
    assert run("rpm", "-qp", "--qf", "%{NAME} %{VERSION}", str(RPM)) == \
        "pam_accessowl %s" % VERSION


def test_rpm_license_and_packager():
    need(RPM)
    lic, packager = run("rpm", "-qp", "--qf", "%{LICENSE}\n%{PACKAGER}",
                        str(RPM)).split("\n")
    assert lic == "BSD-3-Clause"
    # set at build time (%packager, else DEBFULLNAME/DEBEMAIL)
    assert packager == os.environ.get("AO_PACKAGER", packager)
    assert packager and "(none)" not in packager
    # %license: /usr/share/licenses/NAME (Fedora) or NAME-VERSION (the
    # _docdir_fmt of Debian's rpm)
    lic_files = {"/usr/share/licenses/pam_accessowl%s/LICENSE" % v
                 for v in ("", "-" + VERSION)}
    assert lic_files & set(rpm_files())
    log = run("rpm", "-qp", "--changelog", str(RPM))
    assert "%s - %s-1" % (packager, VERSION) in log


def test_rpm_paths_owners_modes():
    files = rpm_files()
    wrong = {p: (files.get(p, (None,))[:3], want) for p, want in RPM_EXPECT.items()
             if files.get(p, (None,))[:3] != want}
    assert not wrong, "path: (in the .rpm, expected)\n%s" % "\n".join(
        "%s: %s" % kv for kv in sorted(wrong.items()))
    for man in RPM_MAN:
        assert any(p == man or p.startswith(man + ".") for p in files), man
    # %config(noreplace): flags c and n
    for conf in ("/etc/accessowl/accessowl.conf", "/etc/cron.d/accessowl"):
        assert "c" in files[conf][3] and "n" in files[conf][3], (conf, files[conf])
    assert not any("token" in p for p in files)


def test_rpm_selinux_subpackage():
    """The policy module as Fedora's guidelines ship one: the .pp.bz2 for
    the targeted policy, its interface, the store's entry as a %ghost;
    installed by %post, relabelled after the transaction, pulled in by the
    main package wherever the targeted policy is installed."""
    need(RPM_SELINUX)
    out = run("rpm", "-qp", "--qf",
              "[%{FILEMODES:perms} %{FILEUSERNAME} %{FILEGROUPNAME} %{FILEFLAGS:fflags} %{FILENAMES}\n]",
              str(RPM_SELINUX))
    files = {l.split(" ", 4)[4]: tuple(l.split(" ", 4)[:4])
             for l in out.splitlines()}
    for path in ("/usr/share/selinux/packages/targeted/accessowl.pp.bz2",
                 "/usr/share/selinux/devel/include/distributed/accessowl.if"):
        assert files.get(path, ())[:3] == ("-rw-r--r--", "root", "root"), \
            (path, files)
    ghost = "/var/lib/selinux/targeted/active/modules/200/accessowl"
    assert "g" in files[ghost][3], files[ghost]
    assert run("rpm", "-qp", "--qf", "%{ARCH}", str(RPM_SELINUX)) == "noarch"
    s = run("rpm", "-qp", "--scripts", str(RPM_SELINUX))
    assert "semodule -n -s targeted -X 200 -i " \
        "/usr/share/selinux/packages/targeted/accessowl.pp.bz2" in s, s
    assert "semodule -n -s targeted -X 200 -r accessowl" in s, s
    post = s.split("posttrans scriptlet", 1)[1]
    for path in ("/usr/sbin/accessowl-helper", "/etc/accessowl",
                 "/var/spool/accessowl", "/var/lib/accessowl",
                 "/run/accessowl"):
        assert path in post, post
    assert "restorecon -R" in post
    reqs = run("rpm", "-qp", "--requires", str(RPM))
    assert "(pam_accessowl-selinux if selinux-policy-targeted)" in reqs, reqs


def test_rpm_scriptlets():
    need(RPM)
    s = run("rpm", "-qp", "--scripts", str(RPM))
    assert "useradd -r -g accessowl" in s
    assert "systemd-tmpfiles --create accessowl.conf" in s or "tmpfiles" in s
    assert "accessowl-scan.timer" in s


def test_rpm_helper_version(tmp_path):
    need(RPM)
    tgz = subprocess.run(["rpm2archive", "-"], stdin=open(RPM, "rb"),
                         capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(tgz)) as tar:
        member = tar.getmember("./usr/sbin/accessowl-helper")
        (tmp_path / "helper").write_bytes(tar.extractfile(member).read())
    (tmp_path / "helper").chmod(0o755)
    out = run(str(tmp_path / "helper"), "--version")
    assert VERSION in out.split()[-1]


# ------------------------------------------- the .deb in a throwaway root

@pytest.fixture(scope="module")
def lifecycle(tmp_path_factory):
    need(DEB)
    if os.geteuid() != 0:
        if CI:
            pytest.fail("root needed (CI=true)")
        pytest.skip("root needed to install the .deb in a throwaway root")
    for tool in ("unshare", "mount", "chroot", "dpkg", "pam-auth-update",
                 "systemd-sysusers"):
        if shutil.which(tool) is None:
            pytest.fail("missing %s" % tool)
    d = tmp_path_factory.mktemp("throwaway")
    (d / "root").mkdir()
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
           "AO_HOST_MNTNS": os.readlink("/proc/self/ns/mnt")}
    more = [str(PREV_DEB), str(RPM), str(PREV_RPM)] if PREV_DEB else []
    for f in more:
        need(Path(f))
    p = subprocess.run(
        ["unshare", "--mount", "--pid", "--fork", "--net", "--ipc", "--uts",
         "--propagation", "private", "/usr/bin/python3",
         str(HERE / "throwaway_root.py"), str(DEB), str(d / "root"),
         str(d / "result.json")] + more,
        env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    # nothing left mounted or written on the host
    assert not any((d / "root").iterdir())
    return json.loads((d / "result.json").read_text())


def step(lc, name):
    s = lc["steps"][name]
    assert s["rc"] == 0, "%s failed:\n%s" % (name, s["out"])
    return s


def pam_lines(state, stack):
    return [l.split() for l in (state["pam"][stack] or "").splitlines()
            if "pam_accessowl" in l]


def test_baseline_is_clean(lifecycle):
    st = step(lifecycle, "baseline")["state"]
    assert st["user"] is None and st["group"] is None
    assert all(v is None for v in st["files"].values()), st["files"]
    assert pam_lines(st, "account") == [] and pam_lines(st, "session") == []


def check_installed(st, admin_token=False):
    f = st["files"]
    assert st["status"] == "ii"
    assert st["user"] and st["user"].split(":")[6] == "/usr/sbin/nologin"
    assert st["group"]
    conf = f["/etc/accessowl/accessowl.conf"]
    assert (conf["mode"], conf["owner"], conf["group"]) == ("0640", "root", "accessowl")
    assert "root accessowl 640 /etc/accessowl/accessowl.conf" in st["statoverride"]
    for d in ("/var/spool/accessowl", "/var/lib/accessowl"):
        assert (f[d]["type"], f[d]["mode"], f[d]["owner"], f[d]["group"]) == \
            ("dir", "0700", "accessowl", "accessowl"), d
    helper = f["/usr/sbin/accessowl-helper"]
    assert (helper["mode"], helper["owner"]) == ("0755", "root")
    mod = [m for m in st["module"]
           if m["path"] == "/lib/%s/security/pam_accessowl.so" % MULTIARCH]
    assert mod and (mod[0]["mode"], mod[0]["owner"]) == ("0644", "root")
    # the .path and .timer units enabled, the oneshot services not
    for unit, wants in ENABLED.items():
        link = f["/etc/systemd/system/%s/%s" % (wants, unit)]
        assert link and link["target"] == "/lib/systemd/system/" + unit, unit
    # pam-auth-update accepted the profile (Default: yes): the lines are in
    # common-account and common-session
    assert pam_lines(st, "account") == [["account", "optional", "pam_accessowl.so"]]
    assert pam_lines(st, "session") == [["session", "optional", "pam_accessowl.so"]]
    assert pam_lines(st, "auth") == [] and pam_lines(st, "password") == []
    # no token shipped or made; one the admin made is theirs, untouched
    tok = f["/etc/accessowl/token"]
    if admin_token:
        assert (tok["mode"], tok["owner"], tok["group"]) == \
            ("0640", "root", "accessowl"), tok
    else:
        assert tok is None


def test_install(lifecycle):
    s = step(lifecycle, "install")
    check_installed(s["state"])
    out = s["out"]
    assert "error" not in out.lower(), out
    # postinst tells the admin how to make the token, in two lines
    lines = [l for l in out.splitlines() if "token" in l]
    assert len(lines) == 2 and "install -m 0640 -o root -g accessowl" in lines[1], out


def test_helper_version_in_deb(lifecycle):
    out = step(lifecycle, "helper_version")["out"]
    assert out.split()[-1] == VERSION


def test_reinstall_keeps_everything(lifecycle):
    s = step(lifecycle, "reinstall")
    check_installed(s["state"])
    assert s["state"]["passwd"] == lifecycle["steps"]["install"]["state"]["passwd"]


def test_remove(lifecycle):
    base = step(lifecycle, "baseline")["state"]
    st = step(lifecycle, "remove")["state"]
    f = st["files"]
    assert st["status"] == "rc"
    # out of the PAM stacks, exactly as before installation
    for stack in base["pam"]:
        assert st["pam"][stack] == base["pam"][stack], stack
    assert st["module"] == []
    assert f["/usr/sbin/accessowl-helper"] is None
    assert f["/usr/share/pam-configs/accessowl"] is None
    for u in UNITS:
        assert f["/lib/systemd/system/" + u] is None
    # conffiles, data, the token, the user stay until purge
    conf = f["/etc/accessowl/accessowl.conf"]
    assert (conf["mode"], conf["owner"], conf["group"]) == ("0640", "root", "accessowl")
    assert f["/etc/cron.d/accessowl"] is not None
    assert f["/var/spool/accessowl"] and f["/var/lib/accessowl"]
    assert f["/etc/accessowl/token"] is not None
    assert st["user"]


def test_purge(lifecycle):
    base = step(lifecycle, "baseline")
    s = step(lifecycle, "purge")
    st = s["state"]
    f = st["files"]
    assert st["status"] == ""
    for stack in base["state"]["pam"]:
        assert st["pam"][stack] == base["state"]["pam"][stack], stack
    assert st["statoverride"] == base["state"]["statoverride"]
    # the token and its directory stay; everything else of ours is gone
    tok = f["/etc/accessowl/token"]
    assert (tok["mode"], tok["owner"], tok["group"]) == ("0640", "root", "accessowl")
    gone = [p for p, v in f.items() if v is not None
            and p not in ("/etc/accessowl", "/etc/accessowl/token")]
    assert not gone, gone
    # the system user stays (Debian does not remove system users): the
    # user databases differ from the baseline by that one entry only
    added = set(st["passwd"].splitlines()) - set(base["state"]["passwd"].splitlines())
    assert [l.split(":")[0] for l in added] == ["accessowl"]
    assert set(base["state"]["passwd"].splitlines()) <= set(st["passwd"].splitlines())
    added = set(st["groupfile"].splitlines()) - set(base["state"]["groupfile"].splitlines())
    assert [l.split(":")[0] for l in added] == ["accessowl"]


# What install + purge may leave in the root, beyond the baseline, and why.
LEFT_BY_POLICY = [
    (r"/etc/accessowl(/token)?", "the admin's token, and its directory"),
    (r"/etc/(passwd|group|shadow|gshadow)-?", "the accessowl system user (kept)"),
    (r"/etc/\.pwd\.lock", "lock file of the user database tools"),
    (r"/var/lib/dpkg/.*", "dpkg's own database"),
    (r"/var/log/dpkg\.log", "dpkg's log"),
    (r"/var/cache/debconf/.*", "debconf's cache (pam-auth-update)"),
    (r"/var/cache/man/.*", "man-db's index (trigger)"),
]


def test_purge_leaves_nothing_else(lifecycle):
    before = step(lifecycle, "baseline")["upper"]
    after = step(lifecycle, "purge")["upper"]
    changed = []
    for path in sorted(set(before) | set(after)):
        if before.get(path) == after.get(path):
            continue
        kind = after.get(path) or ""
        # a directory copied up from the host only because something below
        # it changed is no change of its own
        if kind.startswith("dir ") and os.path.isdir(path) and not os.path.islink(path):
            continue
        if any(re.fullmatch(rx, path) for rx, _ in LEFT_BY_POLICY):
            continue
        changed.append("%s: %s -> %s" % (path, before.get(path), after.get(path)))
    assert not changed, "left behind after purge:\n" + "\n".join(changed)


# --------------------------------------------- upgrades, downgrade, the .rpm

def need_upgrades(lc):
    if not PREV_DEB:
        msg = "AO_PREV_DEB unset: run `make package-check`"
        if CI:
            pytest.fail(msg)
        pytest.skip(msg)


def systemctl(s):
    """What the maintainer scripts asked systemctl for, a call a line."""
    return s["out"].split("--- systemctl:", 1)[1].splitlines()


STARTED = ["accessowl-scan.path", "accessowl-scan.timer",
           "accessowl-deliver.path", "accessowl-deliver.timer"]


def test_deb_first_install_takes_the_scan_baseline(lifecycle):
    f = step(lifecycle, "install")["state"]["files"]
    st = f["/var/lib/accessowl/scan.state"]
    assert st and (st["type"], st["owner"]) == ("file", "accessowl")


def test_deb_upgrade_keeps_everything_and_restarts_the_units(lifecycle):
    need_upgrades(lifecycle)
    prev = step(lifecycle, "deb_prev_install")
    assert prev["state"]["status"] == "ii"
    up = step(lifecycle, "deb_upgrade")
    st = up["state"]
    assert st["status"] == "ii"
    facts = step(lifecycle, "deb_check_upgrade")["out"].split()
    assert facts[:3] == ["config-kept", "token-kept", "queue-kept"], facts
    assert facts[-1] == VERSION                      # the new helper
    check_installed(st, admin_token=True)            # owners, modes, units
    # the units restarted (the scripts saw systemd "running")
    calls = systemctl(up)
    for unit in STARTED:
        assert any(re.search(r"(^| )(re)?start( [^ ]+)* %s( |$)" %
                             re.escape(unit), c) for c in calls), (unit, calls)
    # the pam-auth-update profile still active
    assert pam_lines(st, "account") == [["account", "optional",
                                          "pam_accessowl.so"]]
    assert pam_lines(st, "session") != []


def test_deb_downgrade_and_reinstall(lifecycle):
    need_upgrades(lifecycle)
    down = step(lifecycle, "deb_downgrade")
    assert down["state"]["status"] == "ii"
    facts = step(lifecycle, "deb_check_downgrade")["out"].split()
    assert facts[:3] == ["config-kept", "token-kept", "queue-kept"], facts
    assert facts[-1] == PREV_VERSION
    for name in ("deb_reupgrade", "deb_reinstall"):
        s = step(lifecycle, name)
        check_installed(s["state"], admin_token=True)
    purge = step(lifecycle, "deb_final_purge")
    assert purge["state"]["status"] == ""
    assert pam_lines(purge["state"], "account") == []
    # the metrics timer an admin may have enabled is stopped too, with
    # its service (make systemd-check shows it under a real systemd)
    calls = systemctl(purge)
    for unit in ("accessowl-metrics.timer", "accessowl-metrics.service"):
        assert any(re.search(r"(^| )stop( [^ ]+)* %s( |$)" % re.escape(unit),
                             c) for c in calls), (unit, calls)


def test_rpm_install_creates_the_user_and_runs_its_systemd_steps(lifecycle):
    need_upgrades(lifecycle)
    base = step(lifecycle, "rpm_baseline")["state"]
    assert base["user"] is None
    s = step(lifecycle, "rpm_prev_install")
    st = s["state"]
    f = st["files"]
    # %pre: the system user, before the files it owns
    user = st["user"].split(":")
    assert user[0] == "accessowl" and user[6] == "/sbin/nologin", user
    assert st["group"]
    conf = f["/etc/accessowl/accessowl.conf"]
    assert (conf["mode"], conf["owner"], conf["group"]) == ("0640", "root",
                                                            "accessowl")
    for d in ("/var/spool/accessowl", "/var/lib/accessowl"):
        assert (f[d]["mode"], f[d]["owner"]) == ("0700", "accessowl"), d
    mod = f["/usr/lib64/security/pam_accessowl.so"]
    assert mod and mod["owner"] == "root"
    # %post: presets for the units (systemd "runs"), the first scan's
    # baseline
    calls = systemctl(s)
    assert any(c.startswith("--no-reload preset") and all(u in c for u in
               STARTED) for c in calls), calls
    # which the real systemctl did, offline: Debian has no preset files, so
    # the default "enable" (RHEL's default presets disable them instead)
    for unit, wants in ENABLED.items():
        link = f["/etc/systemd/system/%s/%s" % (wants, unit)]
        assert link and link["target"].endswith("/systemd/system/" + unit), unit
    assert f["/var/lib/accessowl/scan.state"]["owner"] == "accessowl"


def test_rpm_upgrade_keeps_everything_and_erase_stops_the_units(lifecycle):
    need_upgrades(lifecycle)
    step(lifecycle, "rpm_prev_use")
    up = step(lifecycle, "rpm_upgrade")
    facts = step(lifecycle, "rpm_check_upgrade")["out"].split()
    assert facts[:3] == ["config-kept", "token-kept", "queue-kept"], facts
    assert facts[-1] == VERSION
    q = step(lifecycle, "rpm_query")["out"].split()
    assert q[0] == VERSION
    assert any(c.startswith("try-restart") for c in systemctl(up)), \
        systemctl(up)
    er = step(lifecycle, "rpm_erase")
    f = er["state"]["files"]
    assert f["/usr/sbin/accessowl-helper"] is None
    assert f["/usr/lib64/security/pam_accessowl.so"] is None
    assert any(c.startswith("--no-reload disable --now") and
               "accessowl-metrics.timer" in c for c in systemctl(er)), \
        systemctl(er)
    for unit, wants in ENABLED.items():
        assert f["/etc/systemd/system/%s/%s" % (wants, unit)] is None, unit
    # the admin's edited config is kept as .rpmsave; the token and the data
    assert f["/etc/accessowl/token"] is not None
    assert er["state"]["user"]                       # system users stay
