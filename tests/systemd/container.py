"""A Debian 12 root booted under a real systemd in systemd-nspawn, for
`make systemd-check` (test_systemd.py).  Free of pytest.

    tar = cached_root(cache_dir, debs, log)   # mmdebstrap once, then reused
    with Container(tar, log) as c:            # a fresh copy, booted
        c.sh("systemctl is-system-running")
        c.reboot()
    # powered off, the copy removed, nothing left on the host

The root: `mmdebstrap --variant=minbase` of bookworm with systemd, dbus,
sshd, python3 (the fake AccessOwl), prometheus-node-exporter (a real
reader of the metrics file) and the libraries the .debs depend on, from
Debian's packages, kept as a tar in the cache directory under a name that
hashes what went into it (a new package list builds a new one; a build
is written to a temporary name and renamed, so runs at the same time
never read half a tar; a tar no recipe names any more is only disk
space, to delete by hand).

Safety, on a machine others use:
- the container has its own network namespace (--private-network, only
  lo), is not registered with a machined and has no scope made for it on
  a host bus (--register=no --keep-unit): nothing here talks to a systemd
  on the host, and nspawn runs in a private mount namespace with a tmpfs
  on /run, so not even its lock files land on the host;
- nspawn and the container's cgroups live below a cgroup of their own
  (one per boot, removed afterwards), so two containers never share one;
- commands run in the container's namespaces (nsenter into its PID 1,
  after checking that this PID still is that container's init);
- every end, a failed check included, powers the container off, kills
  its init and then nspawn by their PIDs if that does not work in time
  (a killed nspawn leaves its container running: the init goes first),
  removes the cgroups, and deletes the copy of the root.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import debroot  # noqa: E402

PACKAGES = ["systemd", "systemd-sysv", "dbus", "openssh-server",
            "openssh-client", "python3", "prometheus-node-exporter"]
ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
       "LANG": "C.UTF-8", "HOME": "/root", "TERM": "dumb",
       "SYSTEMD_PAGER": "", "SYSTEMD_COLORS": "0",
       "DEBIAN_FRONTEND": "noninteractive"}
# host files copied in (stage())
STAGE = "/ao-test"
# nspawn exits with this when the container asked for a reboot
REBOOT_STATUS = 133


class ContainerError(Exception):
    pass


def deb_depends(deb):
    """The packages a .deb depends on (first alternative, no versions)."""
    out = subprocess.run(["dpkg-deb", "-f", str(deb), "Depends"],
                         capture_output=True, text=True, check=True).stdout
    names = []
    for dep in out.replace("\n", " ").split(","):
        first = dep.split("|")[0].strip()
        m = re.match(r"[a-z0-9][a-z0-9+.-]*", first)
        if m:
            names.append(m.group(0))
    return names


def cached_root(cache_dir, debs, log):
    """The tar of a root that can boot and install the debs: from
    cache_dir, or built there now (20 s to a minute)."""
    pkgs = sorted(set(PACKAGES).union(*(deb_depends(d) for d in debs)))
    try:
        return debroot.cached_tar(
            cache_dir, "debian", {"variant": "minbase", "packages": pkgs,
                                  "layout": 1},
            ["--variant=minbase", "--include=" + ",".join(pkgs)], log)
    except debroot.MmdebstrapFailed as e:
        raise ContainerError("mmdebstrap failed (it needs Debian's package "
                             "mirror):\n%s" % e)


def _cgroup_parents():
    """Where this process sits in each cgroup hierarchy nspawn uses: the
    cgroup2 one and, on a hybrid host, the v1 name=systemd one."""
    mounts = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fstype, _, opts = right.split()[:3]
            point = left.split()[4]
            if fstype == "cgroup2":
                mounts.setdefault("", point)
            elif fstype == "cgroup" and "name=systemd" in opts.split(","):
                mounts["name=systemd"] = point
    parents = []
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, ctrl, path = line.rstrip("\n").split(":", 2)
            if ctrl in mounts:
                parents.append(Path(mounts[ctrl] + path.rstrip("/")))
    return parents


def _rmdir_tree(d):
    """Remove a cgroup and those below it, deepest first."""
    if not d.is_dir():
        return
    for sub in sorted((p for p in d.rglob("*") if p.is_dir()),
                      key=lambda p: len(p.parts), reverse=True):
        sub.rmdir()
    d.rmdir()


class Container:
    def __init__(self, tar, log=print):
        self.tar = Path(tar)
        self.log = log
        self.work = None
        self.root = None
        self.proc = None          # systemd-nspawn
        self.init = None          # the container's PID 1, as the host sees it
        self.init_ns = None
        self.cgroups = []
        self.name = None
        self.boots = 0
        self.console = []

    # ------------------------------------------------------------ lifecycle

    def __enter__(self):
        try:
            self.unpack()
            self.boot()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def unpack(self):
        self.work, self.root = debroot.unpack(self.tar, "ao-systemd-")

    def boot(self, timeout=60):
        self.boots += 1
        self.name = f"ao-check-{os.getpid()}-{self.boots}"
        self.cgroups = []
        for parent in _cgroup_parents():
            d = parent / self.name
            d.mkdir()
            self.cgroups.append(d)
        procs = [str(d / "cgroup.procs") for d in self.cgroups]

        def into_cgroups():
            for p in procs:
                with open(p, "w") as f:
                    f.write("0")

        logf = open(self.work / f"console-{self.boots}.log", "w")
        self.console.append(logf.name)
        nspawn = ["systemd-nspawn", "--quiet", "-D", str(self.root),
                  "--machine", self.name, "--boot", "--register=no",
                  "--keep-unit", "--private-network", "--console=passive",
                  "--link-journal=no", "--resolv-conf=off",
                  "--timezone=off"]
        self.proc = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "--",
             "/bin/sh", "-c", 'mount -t tmpfs -o mode=0755 tmpfs /run && '
             'exec "$@"', "sh"] + nspawn,
            stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
            env=ENV, preexec_fn=into_cgroups)
        logf.close()
        self.init = self.init_ns = None
        deadline = time.monotonic() + timeout
        while self.init is None:
            self._find_init()
            if self.proc.poll() is not None:
                raise ContainerError("systemd-nspawn ended at once:\n" +
                                     self.console_text())
            if time.monotonic() > deadline:
                raise ContainerError("no container init appeared")
            time.sleep(0.05)
        state = ""
        while time.monotonic() < deadline:
            p = self.sh("systemctl is-system-running --wait", check=False,
                        timeout=max(1, deadline - time.monotonic()))
            state = p.stdout.strip()
            if state in ("running", "degraded"):
                return state
            time.sleep(0.2)
        raise ContainerError(f"the container did not boot (state {state!r}):"
                             "\n" + self.console_text())

    def _find_init(self):
        for d in Path("/proc").iterdir():
            if not d.name.isdigit():
                continue
            try:
                status = (d / "status").read_text()
            except OSError:
                continue
            ppid = re.search(r"^PPid:\s+(\d+)", status, re.M)
            nspid = re.search(r"^NSpid:\s+(.*)$", status, re.M)
            if ppid and int(ppid.group(1)) == self.proc.pid and nspid and \
                    nspid.group(1).split()[-1] == "1" and \
                    len(nspid.group(1).split()) == 2:
                try:
                    self.init_ns = os.readlink(d / "ns" / "pid")
                except OSError:
                    continue
                self.init = int(d.name)
                return

    def _check_init(self):
        """The PID we enter still is this container's init."""
        if self.init is None:
            raise ContainerError("the container is not running")
        try:
            ns = os.readlink(f"/proc/{self.init}/ns/pid")
        except OSError:
            ns = None
        if ns != self.init_ns:
            raise ContainerError("the container's init is gone:\n" +
                                 self.console_text())

    def console_text(self):
        text = ""
        for name in self.console:
            try:
                text += Path(name).read_text(errors="replace")
            except OSError:
                pass
        return text[-6000:]

    def _wait_nspawn(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def _kill(self):
        """The container's init first (SIGKILL to a PID namespace's init
        ends everything in it), then nspawn; by PID only."""
        if self.init is not None:
            try:
                if os.readlink(f"/proc/{self.init}/ns/pid") == self.init_ns:
                    os.kill(self.init, signal.SIGKILL)
            except OSError:
                pass
        if self._wait_nspawn(10) is None:
            self.proc.kill()
            self.proc.wait(10)

    def _after_exit(self):
        self.init = self.init_ns = None
        for d in self.cgroups:
            _rmdir_tree(d)
        self.cgroups = []

    def poweroff(self, timeout=60):
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            self._check_init()
            # SIGRTMIN+4: systemd's "power off", from outside the container
            os.kill(self.init, signal.SIGRTMIN + 4)
        except (ContainerError, OSError):
            pass
        if self._wait_nspawn(timeout) is None:
            self.log("the container did not power off in time: killing it")
            self._kill()
        self._after_exit()

    def reboot(self, timeout=60):
        """systemctl reboot inside; nspawn ends (status 133), and the same
        root boots again."""
        self.sh("systemctl reboot --no-block")
        rc = self._wait_nspawn(timeout)
        if rc is None:
            self._kill()
            self._after_exit()
            raise ContainerError("the container did not shut down for the "
                                 "reboot:\n" + self.console_text())
        self._after_exit()
        if rc != REBOOT_STATUS:
            raise ContainerError(f"nspawn ended with {rc}, not "
                                 f"{REBOOT_STATUS}, on reboot:\n" +
                                 self.console_text())
        return self.boot()

    def close(self):
        """Power off, or kill; remove the cgroups and the copy of the root.
        Raises when something could not be removed."""
        problems = []
        try:
            if self.proc is not None and self.proc.poll() is None:
                self.poweroff()
        except Exception as e:          # keep cleaning up
            problems.append(f"poweroff: {e}")
            try:
                self._kill()
            except Exception as e2:
                problems.append(f"kill: {e2}")
        try:
            self._after_exit()
        except OSError as e:
            problems.append(f"cgroups: {e}")
        if self.work is not None:
            mounted = []
            with open("/proc/self/mountinfo") as f:
                for line in f:
                    point = line.split()[4]
                    if point == str(self.work) or \
                            point.startswith(str(self.work) + "/"):
                        mounted.append(point)
            if mounted:
                problems.append(f"still mounted, not removed: {mounted}")
            else:
                shutil.rmtree(self.work, ignore_errors=True)
                if self.work.exists():
                    problems.append(f"{self.work} could not be removed")
                self.work = None
        if problems:
            raise ContainerError("; ".join(problems))

    # ------------------------------------------------------------- commands

    def sh(self, script, check=True, timeout=120, input=None):
        """/bin/sh -c SCRIPT in the container, as its root; returns the
        CompletedProcess (text)."""
        self._check_init()
        p = subprocess.run(
            ["nsenter", "--target", str(self.init), "--all", "--",
             "/bin/sh", "-c", script],
            env=ENV, capture_output=True, text=True, timeout=timeout,
            input=input, stdin=None if input is not None else
            subprocess.DEVNULL)
        if check and p.returncode != 0:
            raise ContainerError(f"in the container: {script}\nexit "
                                 f"{p.returncode}\n{p.stdout}{p.stderr}")
        return p

    def stage(self, src, name, mode=0o644):
        """Copy a host file to /ao-test/NAME in the container (a directory
        made fresh in the unpacked root, so no link inside the root can
        send the copy elsewhere on the host)."""
        d = self.root / STAGE.lstrip("/")
        if not d.is_dir():
            d.mkdir(mode=0o755)
        shutil.copyfile(src, d / name)
        os.chmod(d / name, mode)
        return f"{STAGE}/{name}"

    def write(self, path, text, mode="0644", owner="root:root"):
        """A file in the container, written from inside it."""
        self.sh(f"install -m {mode} -o {owner.split(':')[0]} "
                f"-g {owner.split(':')[1]} /dev/null {path} && "
                f"cat > {path}", input=text)
