"""A private copy of the system for root-only integration tests.

Real shadow-utils (useradd, usermod -L, passwd -l, chage -E, userdel), real
PAM stacks and a real OpenSSH sshd run against a *copy* of the host's /etc,
inside a private mount namespace, so nothing on the host changes:

    system = PrivateSystem(tmp_path)         # cp -a /etc  -> tmp_path/etc
    system.useradd("alice", password="pw")   # writes tmp_path/etc/passwd ...
    system.run(["usermod", "-L", "alice"])   # any command, inside the namespace
    system.shadow("alice")[1]                # -> "!$y$..."

    write_pam_service(system, "sshd", PERMIT_ALL)
    with Sshd(system, free_port()) as sshd:
        key = sshd.add_key("alice")
        rc, out, err, secs = sshd.login("alice", key)

Every run()/popen() is `unshare -m --propagation private sh -c WRAPPER`:
the wrapper bind-mounts, inside the new namespace only,

    tmpdir/run   over /run        (utmp, /run/sshd, locks, faillock tallies)
    tmpdir/etc   over /etc        (the whole directory: shadow-utils renames
                                   files into place, which fails on a
                                   bind-mounted single file)
    tmpdir/log   over /var/log    (lastlog, faillog, wtmp, btmp)
    tmpdir/mail  over /var/mail   (useradd/userdel mail spools)
    tmpdir/home  over /home       (users' homes: /home/NAME inside)
    extra_binds                    (src, dst) pairs, read-write

and then execs the command.  /var/run and /var/lock are symlinks into /run
on Debian, so they follow.  Nothing is mounted in the host's namespace.

With PrivateSystem(tmpdir, syslog=True) the namespace also gets a private
/dev (a tmpfs holding binds of the host's null, zero, random, urandom, tty,
ptmx, pts, shm, ...) whose /dev/log is a socket this module listens on, so a
test can read what PAM modules and helpers sent to syslog: system.syslog().

Root is required (tests call conftest.need_root() or require() first).
"""
import functools
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections import namedtuple
from pathlib import Path

CLEAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SSHD = "/usr/sbin/sshd"

# Tools the helpers below call; require() checks them.
TOOLS = ("unshare", "mount", "useradd", "usermod", "userdel", "chage",
         "chpasswd", "passwd", "pamtester", SSHD, "ssh", "ssh-keygen")

# A PAM service that lets everyone in (pubkey logins do not use "auth").
PERMIT_ALL = [
    "auth     required pam_permit.so",
    "account  required pam_permit.so",
    "session  required pam_permit.so",
]
# pam_unix in the account stack: refuses expired accounts, but (the trap in
# design.md) ignores the '!' lock marker.
UNIX_ACCOUNT = [
    "auth     required pam_deny.so",
    "account  required pam_unix.so",
    "session  required pam_permit.so",
]


def clean_env(**extra):
    env = {"PATH": CLEAN_PATH, "LANG": "C.UTF-8", "HOME": "/root"}
    env.update(extra)
    return env


def require(*tools):
    """Skip (developer) or fail (CI=true) unless root and every tool exists.

    With no arguments checks TOOLS.  Call it at the top of a root-only test.
    """
    import pytest
    from conftest import CI, need_root
    need_root()
    missing = [t for t in (tools or TOOLS) if shutil.which(t) is None]
    if missing:
        msg = ("missing prerequisites: %s (Debian packages: openssh-server "
               "openssh-client pamtester passwd login util-linux mount)"
               % " ".join(missing))
        if CI:
            pytest.fail(msg)
        pytest.skip(msg)


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CommandFailed(subprocess.CalledProcessError):
    """CalledProcessError whose message shows the output."""

    def __str__(self):
        return "%s\n--- stdout:\n%s\n--- stderr:\n%s" % (
            super().__str__(), self.stdout or "", self.stderr or "")


SyslogRecord = namedtuple("SyslogRecord",
                          "facility severity ident pid message raw")
LOG_AUTHPRIV = 10          # facility number (LOG_AUTHPRIV >> 3)
LOG_WARNING = 4            # severities 0..4 are "WARNING or above"
_SYSLOG_RE = re.compile(
    r"^<(\d+)>(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d )?"
    r"(?:([^\s:\[]+)(?:\[(\d+)\])?: )?(.*)$", re.S)


def _parse_syslog(data):
    text = data.decode("utf-8", "replace").rstrip("\n\0")
    m = _SYSLOG_RE.match(text)
    if not m:
        return SyslogRecord(None, None, None, None, text, text)
    pri = int(m.group(1))
    return SyslogRecord(pri >> 3, pri & 7, m.group(2),
                        int(m.group(3)) if m.group(3) else None,
                        m.group(4), text)


class PrivateSystem:
    """A copy of /etc plus private /run, /var/log, /var/mail under tmpdir.

    Attributes: tmpdir, etc, run_dir, log_dir, mail_dir, home_dir (Paths),
    extra_binds (list of (src, dst) pairs bound read-write in every call;
    dst must exist on the host, or lie under /etc, /run, /var/log, /var/mail
    or /home, where it is created in the private copy).
    """

    def __init__(self, tmpdir, extra_binds=(), syslog=False):
        self.tmpdir = Path(tmpdir)
        self.etc = self.tmpdir / "etc"
        self.run_dir = self.tmpdir / "run"
        self.log_dir = self.tmpdir / "log"
        self.mail_dir = self.tmpdir / "mail"
        self.home_dir = self.tmpdir / "home"
        self.extra_binds = [(str(s), str(d)) for s, d in extra_binds]
        if self.etc.exists():
            raise FileExistsError(f"{self.etc} exists: one PrivateSystem "
                                  "per directory")
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        # cp -a keeps owners, modes and links; it goes on past what it
        # cannot copy (and then exits 1), which is fine for a test copy.
        subprocess.run(["cp", "-a", "/etc", str(self.etc)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for f in ("passwd", "shadow", "group", "pam.d"):
            if not (self.etc / f).exists():
                raise RuntimeError(f"copying /etc/{f} failed (not root?)")
        self.etc.chmod(0o755)
        self.home_dir.mkdir(mode=0o755, exist_ok=True)
        self._make_run()
        self._make_log()
        self.mail_dir.mkdir(mode=0o2775, exist_ok=True)
        _chown_group(self.mail_dir, "mail")
        (self.etc / "ssh" / "authorized_keys").mkdir(
            mode=0o755, parents=True, exist_ok=True)
        self._syslog = None
        if syslog:
            self._syslog = _SyslogSink(self.tmpdir / "syslog.sock")

    def _make_run(self):
        r = self.run_dir
        r.mkdir(mode=0o755, exist_ok=True)
        r.chmod(0o755)
        (r / "sshd").mkdir(mode=0o755, exist_ok=True)    # privsep chroot
        (r / "lock").mkdir(exist_ok=True)
        (r / "lock").chmod(0o1777)
        (r / "mount").mkdir(mode=0o755, exist_ok=True)   # libmount utab
        (r / "utmp").touch(mode=0o664)
        _chown_group(r / "utmp", "utmp")

    def _make_log(self):
        d = self.log_dir
        d.mkdir(mode=0o755, exist_ok=True)
        for name, mode, group in (("wtmp", 0o664, "utmp"),
                                  ("btmp", 0o660, "utmp"),
                                  ("lastlog", 0o664, "utmp"),
                                  ("faillog", 0o644, None)):
            (d / name).touch(mode=mode)
            if group:
                _chown_group(d / name, group)

    # -- running commands -------------------------------------------------

    def _binds(self):
        """(src, dst) in mount order."""
        binds = [(str(self.run_dir), "/run"),
                 (str(self.etc), "/etc"),
                 (str(self.log_dir), "/var/log"),
                 (str(self.mail_dir), "/var/mail"),
                 (str(self.home_dir), "/home")]
        for src, dst in self.extra_binds:
            if not os.path.isabs(dst):
                raise ValueError(f"extra bind target must be absolute: {dst}")
            if not os.path.lexists(src):
                raise FileNotFoundError(src)
            self._mountpoint(dst, os.path.isdir(src))
            binds.append((src, dst))
        return binds

    def _mountpoint(self, dst, isdir):
        """Make sure dst exists as seen from inside the namespace."""
        for prefix, real in (("/etc", self.etc), ("/run", self.run_dir),
                             ("/var/log", self.log_dir),
                             ("/var/mail", self.mail_dir),
                             ("/home", self.home_dir)):
            if dst == prefix or dst.startswith(prefix + "/"):
                path = Path(str(real) + dst[len(prefix):])
                break
        else:
            if not os.path.exists(dst):
                raise FileNotFoundError(
                    f"extra bind target {dst} does not exist on the host; "
                    "use one under /etc, /run, /var/log or /home")
            return
        if not path.exists():
            if isdir:
                path.mkdir(parents=True)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.touch()

    def _wrapper(self):
        q = shlex.quote
        lines = ["set -e"]
        for src, dst in self._binds():
            lines.append(f"mount --bind {q(src)} {q(dst)}")
        if self._syslog:
            lines += _private_dev_script(str(self._syslog.path))
        lines.append('exec "$@"')
        return "\n".join(lines)

    def argv(self, argv):
        """The full command line that runs argv inside the namespace."""
        return ["unshare", "-m", "--propagation", "private",
                "sh", "-c", self._wrapper(), "rootenv"] + [str(a) for a in argv]

    def run(self, argv, check=True, input=None, timeout=60, env=None):
        """Run argv inside a new private mount namespace; text output.

        env defaults to a clean one (PATH, LANG, HOME); a given env is used
        as is (PATH added if missing).  check=True raises CommandFailed,
        whose message shows stdout and stderr.
        """
        env = clean_env() if env is None else dict(env)
        env.setdefault("PATH", CLEAN_PATH)
        p = subprocess.run(self.argv(argv), input=input, text=True,
                           capture_output=True, timeout=timeout, env=env)
        if check and p.returncode != 0:
            raise CommandFailed(p.returncode, list(argv), p.stdout, p.stderr)
        return p

    def popen(self, argv, **kw):
        """subprocess.Popen of argv inside a new private mount namespace.

        Defaults: clean env, start_new_session=True, text=True.
        """
        env = clean_env() if kw.get("env") is None else dict(kw["env"])
        env.setdefault("PATH", CLEAN_PATH)
        kw["env"] = env
        kw.setdefault("start_new_session", True)
        kw.setdefault("text", True)
        return subprocess.Popen(self.argv(argv), **kw)

    # -- accounts -----------------------------------------------------------

    def useradd(self, name, password=None, uid=None, gecos=None,
                shell="/bin/bash", create_home=True, extra=()):
        """useradd -l (no lastlog), home /home/NAME (the private /home,
        i.e. tmpdir/home/NAME), created from the copy's /etc/skel unless
        create_home=False.  extra: more useradd options.

        Without a password the shadow entry is useradd's '!' (no password
        set, NOT a lock).
        """
        argv = ["useradd", "-l", "-d", f"/home/{name}", "-s", shell]
        argv += ["-m"] if create_home else ["-M"]
        if uid is not None:
            argv += ["-u", str(uid)]
        if gecos is not None:
            argv += ["-c", gecos]
        argv += list(extra) + [name]
        self.run(argv)
        if password is not None:
            self.set_password(name, password)

    def set_password(self, name, password):
        self.run(["chpasswd"], input=f"{name}:{password}\n")

    def _entry(self, file, name, nfields):
        for line in (self.etc / file).read_text().splitlines():
            fields = line.split(":")
            if fields[0] == name:
                if len(fields) != nfields:
                    raise ValueError(f"{file}: bad line for {name}: {line!r}")
                return fields
        return None

    def shadow(self, name):
        """The 9 fields of NAME's line in the copy's shadow, or None."""
        return self._entry("shadow", name, 9)

    def passwd_entry(self, name):
        """The 7 fields of NAME's line in the copy's passwd, or None."""
        return self._entry("passwd", name, 7)

    # -- syslog ---------------------------------------------------------------

    def syslog(self):
        """SyslogRecords received on the namespace's /dev/log so far.

        Needs PrivateSystem(..., syslog=True).
        """
        if not self._syslog:
            raise RuntimeError("PrivateSystem(..., syslog=True) needed")
        return self._syslog.records()

    def close(self):
        if self._syslog:
            self._syslog.close()
            self._syslog = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _chown_group(path, group):
    import grp
    try:
        os.chown(path, 0, grp.getgrnam(group).gr_gid)
    except (KeyError, PermissionError):
        pass


def _private_dev_script(sock):
    """sh lines: a tmpfs /dev with binds of the host's nodes + /dev/log."""
    q = shlex.quote
    hd = "/run/.rootenv-hostdev"
    lines = [f"mkdir -p {hd}", f"mount --rbind /dev {hd}",
             "mount -t tmpfs -o mode=755,nosuid,size=1m rootenv-dev /dev"]
    for n in ("null", "zero", "full", "random", "urandom", "tty", "ptmx"):
        lines.append(f"if [ -e {hd}/{n} ]; then : > /dev/{n}; "
                     f"mount --bind {hd}/{n} /dev/{n}; fi")
    for d in ("pts", "shm", "mqueue", "hugepages"):
        lines.append(f"if [ -d {hd}/{d} ]; then mkdir /dev/{d}; "
                     f"mount --rbind {hd}/{d} /dev/{d}; fi")
    lines += ["ln -s /proc/self/fd /dev/fd",
              "ln -s /proc/self/fd/0 /dev/stdin",
              "ln -s /proc/self/fd/1 /dev/stdout",
              "ln -s /proc/self/fd/2 /dev/stderr",
              ": > /dev/log", f"mount --bind {q(sock)} /dev/log",
              f"umount -l {hd}", "mount -o remount,ro,bind /dev"]
    return lines


class _SyslogSink:
    """A datagram socket that stores what arrives, read by a thread."""

    def __init__(self, path):
        self.path = Path(path)
        self._records = []
        self._lock = threading.Lock()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        # AF_UNIX paths are limited to 107 bytes; bind through the parent
        # directory's fd when the path is longer.
        dfd = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            name = str(self.path)
            if len(name.encode()) > 100:
                name = f"/proc/self/fd/{dfd}/{self.path.name}"
            self.sock.bind(name)
        finally:
            os.close(dfd)
        os.chmod(self.path, 0o666)   # a helper that dropped root logs too
        self.sock.settimeout(0.2)
        self._stop = False
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self):
        while not self._stop:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self._records.append(_parse_syslog(data))

    def records(self):
        time.sleep(0.05)   # let in-flight datagrams land
        with self._lock:
            return list(self._records)

    def close(self):
        self._stop = True
        self._thread.join(2)
        self.sock.close()


def write_pam_service(system, name, lines):
    """Write <etc copy>/pam.d/NAME from a list of lines (or one string)."""
    text = lines if isinstance(lines, str) else "\n".join(lines)
    path = system.etc / "pam.d" / name
    path.write_text(text.rstrip("\n") + "\n")
    path.chmod(0o644)
    return path


def pamtester(system, service, user, *ops, timeout=20, env=None):
    """pamtester -v SERVICE USER OPS... inside the namespace (check=False)."""
    return system.run(["pamtester", "-v", service, user] + list(ops),
                      check=False, timeout=timeout, env=env)


@functools.lru_cache(maxsize=None)
def _openssh_version():
    try:
        out = subprocess.run([SSHD, "-V"], capture_output=True, text=True)
        m = re.search(r"OpenSSH_(\d+)\.(\d+)", out.stdout + out.stderr)
        return (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    except OSError:
        return (0, 0)


def _mnt_ns(pid):
    try:
        return os.readlink(f"/proc/{pid}/ns/mnt")
    except OSError:
        return None


class Sshd:
    """A real sshd on 127.0.0.1:port inside the PrivateSystem's namespace.

    UsePAM yes with PAM service `pam_service` (<etc copy>/pam.d/<name>,
    written by the test, e.g. with write_pam_service), public keys only,
    keys in <etc copy>/ssh/authorized_keys/%u.  extra_config is placed
    before the defaults (sshd keeps the first value it reads, so it
    overrides them); a trailing Match section goes after them.
    """

    def __init__(self, system, port=None, pam_service="sshd",
                 extra_config="", start=True):
        self.system = system
        self.port = port or free_port()
        self.pam_service = pam_service
        self.dir = system.tmpdir / f"sshd-{self.port}"
        self.dir.mkdir(mode=0o700, exist_ok=True)
        self.keys_dir = system.tmpdir / "sshkeys"
        self.keys_dir.mkdir(mode=0o700, exist_ok=True)
        self.hostkey = self.dir / "ssh_host_ed25519_key"
        if not self.hostkey.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "",
                            "-C", "rootenv-host", "-f", str(self.hostkey)],
                           check=True, capture_output=True)
        self.config_path = self.dir / "sshd_config"
        self.log_path = self.dir / "sshd.log"
        self.pid_path = self.dir / "sshd.pid"
        self.config_path.write_text(self._config(extra_config))
        self.proc = None
        self.ns = None
        self._log = None
        if start:
            self.start()

    def _config(self, extra):
        head, match = extra, ""
        m = re.search(r"^\s*Match\s", extra, re.M | re.I)
        if m:
            head, match = extra[:m.start()], extra[m.start():]
        cfg = [
            head.rstrip("\n"),
            "# written by tests/integration/rootenv.py",
            f"Port {self.port}",
            f"ListenAddress 127.0.0.1:{self.port}",
            "AddressFamily inet",
            f"HostKey {self.hostkey}",
            f"PidFile {self.pid_path}",
            "UsePAM yes",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "HostbasedAuthentication no",
            "AuthorizedKeysFile /etc/ssh/authorized_keys/%u",
            "AuthorizedPrincipalsFile none",
            "StrictModes no",
            "UseDNS no",
            "PermitRootLogin prohibit-password",
            "PrintMotd no",
            "PrintLastLog no",
            "X11Forwarding no",
            "AllowTcpForwarding no",
            "AllowAgentForwarding no",
            "PermitTunnel no",
            "PermitUserEnvironment no",
            "LoginGraceTime 30",
            "MaxStartups 100",
            "MaxSessions 10",
            "LogLevel VERBOSE",
            "SyslogFacility AUTH",
        ]
        if _openssh_version() >= (9, 8):
            cfg.append("PerSourcePenalties no")
            cfg.append(f"PAMServiceName {self.pam_service}")
        return "\n".join(cfg) + "\n" + match

    def _sshd_path(self):
        """The sshd to exec: OpenSSH < 9.8 names its PAM service after
        argv[0] (__progname), so for a service other than "sshd" exec it
        through a symlink of that name (an absolute path, as sshd's re-exec
        requires)."""
        if self.pam_service == "sshd" or _openssh_version() >= (9, 8):
            return SSHD
        if "/" in self.pam_service:
            raise ValueError("pam_service must be a plain name")
        link = self.dir / "bin" / self.pam_service
        link.parent.mkdir(mode=0o700, exist_ok=True)
        if not link.is_symlink():
            link.symlink_to(SSHD)
        return str(link)

    def start(self, timeout=15):
        if self.proc and self.proc.poll() is None:
            return self
        self._log = open(self.log_path, "a")
        self._log.write(f"=== rootenv: starting sshd on port {self.port}\n")
        self._log.flush()
        start_at = self.log_path.stat().st_size
        self.proc = self.system.popen(
            [self._sshd_path(), "-D", "-e", "-f", str(self.config_path)],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log)
        want = f"Server listening on 127.0.0.1 port {self.port}."
        deadline = time.time() + timeout
        while True:
            with open(self.log_path) as f:
                f.seek(start_at)
                if want in f.read():
                    break
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise RuntimeError(f"sshd did not start:\n{self.log()}")
            time.sleep(0.02)
        ns = _mnt_ns(self.proc.pid)
        self.ns = ns if ns and ns != _mnt_ns(os.getpid()) else None
        return self

    def stop(self):
        """Stop sshd and every process left in its mount namespace."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self.proc = None
        if self.ns:
            self._kill_namespace()
            self.ns = None
        if self._log:
            self._log.close()
            self._log = None

    def _kill_namespace(self):
        """SIGKILL processes (session children) still in sshd's namespace."""
        me = _mnt_ns(os.getpid())
        if not self.ns or self.ns == me:
            return
        for _ in range(50):
            left = [int(p) for p in os.listdir("/proc")
                    if p.isdigit() and _mnt_ns(p) == self.ns]
            if not left:
                return
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.05)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        """Everything sshd wrote (stderr, -e) so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def add_key(self, user):
        """A new ed25519 key (no passphrase) authorized for USER; its path."""
        n = len(list(self.keys_dir.glob(f"{user}-*.pub")))
        key = self.keys_dir / f"{user}-{n}"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "",
                        "-C", f"rootenv-{user}-{n}", "-f", str(key)],
                       check=True, capture_output=True)
        auth = self.system.etc / "ssh" / "authorized_keys" / user
        with open(auth, "a") as f:
            f.write(Path(str(key) + ".pub").read_text())
        auth.chmod(0o644)
        return key

    def login(self, user, key, command="true", timeout=20):
        """ssh USER@127.0.0.1 COMMAND with KEY.

        Returns (returncode, stdout, stderr, seconds); 255 is ssh's own
        failure (refused, closed).  Raises subprocess.TimeoutExpired after
        `timeout` seconds.
        """
        argv = ["ssh", "-F", "/dev/null", "-o", "BatchMode=yes",
                "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null",
                "-o", "GlobalKnownHostsFile=/dev/null",
                "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR",
                "-o", "ConnectTimeout=10",
                "-i", str(key), "-p", str(self.port),
                "-l", user, "127.0.0.1", command]
        t0 = time.monotonic()
        p = subprocess.run(argv, capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, timeout=timeout,
                           env=clean_env())
        return p.returncode, p.stdout, p.stderr, time.monotonic() - t0

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def __del__(self):
        try:
            self.stop()
        except Exception:
            pass
