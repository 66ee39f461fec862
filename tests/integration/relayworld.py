"""A fleet relay on loopback: a real rsyslogd as the collector, running the
shipped conf/rsyslog/accessowl-collector.conf (its paths and port pointed
at a temporary directory), and relay hosts with their own config, spool,
client certificate and host name, and no token.

Host names: an event carries the name of the host that saw it, so each
relay host runs the helper in a UTS namespace of its own (unshare -u, root
only) named <name>.hosts.test.
"""
import errno
import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from harness import HELPER, ROOT, SVC_GID, protect

RSYSLOGD = "/usr/sbin/rsyslogd"
SHIPPED = ROOT / "conf" / "rsyslog" / "accessowl-collector.conf"
DOMAIN = "hosts.test"


def _openssl(*args):
    p = subprocess.run(["openssl", *args], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


class RelayCerts:
    """A CA, the collector's certificate (DNS:localhost) and one client
    certificate per host; and a rogue CA with a host certificate of its
    own, which the collector must refuse.  EC keys: quick to make."""

    def __init__(self, d, names):
        self.d = Path(d)
        ext = self.d / "ext.cnf"
        ext.write_text(
            "[leaf]\nbasicConstraints=critical,CA:FALSE\n"
            "keyUsage=critical,digitalSignature,keyEncipherment\n"
            "extendedKeyUsage=serverAuth,clientAuth\n"
            "subjectAltName=DNS:${ENV::CN}\n")
        self.ca("ca")
        self.ca("rogue-ca")
        self.leaf("localhost", "collector", "ca")
        for n in names:
            self.leaf(n, n, "ca")
        self.leaf(f"rogue.{DOMAIN}", "rogue", "rogue-ca")
        for f in self.d.glob("*.pem"):
            os.chmod(f, 0o644)

    def ca(self, name):
        _openssl("req", "-x509", "-new", "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                 "-subj", f"/CN=relay test {name}",
                 "-keyout", str(self.d / f"{name}.key"),
                 "-out", str(self.d / f"{name}.pem"))

    def leaf(self, cn, name, ca):
        env = dict(os.environ, CN=cn)
        key, csr = self.d / f"{name}.key", self.d / f"{name}.csr"
        subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-subj",
                        f"/CN={cn}", "-keyout", str(key), "-out", str(csr)],
                       check=True, capture_output=True, env=env)
        subprocess.run(["openssl", "x509", "-req", "-in", str(csr), "-CA",
                        str(self.d / f"{ca}.pem"), "-CAkey",
                        str(self.d / f"{ca}.key"), "-CAcreateserial",
                        "-days", "2", "-extfile", str(self.d / "ext.cnf"),
                        "-extensions", "leaf", "-out",
                        str(self.d / f"{name}.pem")],
                       check=True, capture_output=True, env=env)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class SmallDisks:
    """A private mount namespace (root only), held open by a process that
    sleeps in it, with a small tmpfs on each directory of mounts, a list
    of (directory, uid, gid): disks the test can fill and empty again.
    Nothing outside the namespace sees them: run what must use them with
    argv(), and look at their files from outside through path()."""

    def __init__(self, mounts, size="1m"):
        lines = ["set -e"]
        for d, uid, gid in mounts:
            lines.append(f"mount -t tmpfs -o size={size},mode=0700,"
                         f"uid={uid},gid={gid} ao-small-disk '{d}'")
        lines += ["echo ready", "exec sleep 86400"]
        self.dirs = [Path(d) for d, _, _ in mounts]
        # unshare and sh exec: the pid is the sleeping holder's
        self.proc = subprocess.Popen(
            ["unshare", "-m", "--propagation", "private", "sh", "-c",
             "\n".join(lines)], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        if self.proc.stdout.readline() != "ready\n":
            self.proc.wait(10)
            raise RuntimeError("cannot mount the small disks: " +
                               self.proc.stderr.read())

    def argv(self, *cmd):
        """cmd inside the namespace (nsenter execs it: same pid)."""
        return ["nsenter", "-t", str(self.proc.pid), "-m", "--", *cmd]

    def path(self, p):
        """p as the namespace sees it, from outside."""
        return Path(f"/proc/{self.proc.pid}/root") / Path(p).relative_to("/")

    def fill(self):
        """Fill every disk (a file of zeros in each, until ENOSPC)."""
        block = b"\0" * 65536
        for d in self.dirs:
            with open(self.path(d) / "filler", "wb", buffering=0) as f:
                try:
                    while True:
                        f.write(block)
                except OSError as e:
                    assert e.errno == errno.ENOSPC, e
                try:  # the last partial block
                    while True:
                        f.write(b"\0" * 512)
                except OSError as e:
                    assert e.errno == errno.ENOSPC, e

    def free(self):
        for d in self.dirs:
            (self.path(d) / "filler").unlink()

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Collector:
    """rsyslogd with the shipped collector config; env is the collector's
    helper Env (the only one with a token).  With .disks set (SmallDisks)
    before start(), rsyslogd runs in their mount namespace, and so does
    ingest."""

    def __init__(self, base, certs, env, port=None, permitted=f"*.{DOMAIN}",
                 global_params="", confirm_timeout_ms=None):
        self.env = env
        self.disks = None
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="ao-rsyslog-", dir=base))
        self.work = self.dir / "work"
        self.work.mkdir()
        text = SHIPPED.read_text()
        subs = [
            ("/usr/sbin/accessowl-helper -c /etc/accessowl/accessowl.conf",
             f"{HELPER} -c {env.config_path}"),
            ("/etc/accessowl/relay/ca.pem", str(certs.d / "ca.pem")),
            ("/etc/accessowl/relay/collector.pem",
             str(certs.d / "collector.pem")),
            ("/etc/accessowl/relay/collector.key",
             str(certs.d / "collector.key")),
            ('"*.hosts.example.com"', f'"{permitted}"'),
            ('port="2514"', f'port="{self.port}" address="127.0.0.1"'),
            ('action.resumeInterval="10"', 'action.resumeInterval="1"'),
        ]
        if confirm_timeout_ms:  # how long omprog waits for a hung ingest
            subs.append(('confirmTimeout="30000"',
                         f'confirmTimeout="{confirm_timeout_ms}"'))
        for old, new in subs:
            # the test runs what ships: if it changes shape, look here
            assert old in text, f"{old} not in {SHIPPED}"
            text = text.replace(old, new)
        (self.dir / "accessowl-collector.conf").write_text(text)
        self.internal = self.dir / "rsyslog.log"
        self.conf = self.dir / "rsyslog.conf"
        # processInternalMessages: rsyslog's own messages go to log(),
        # not to the host's syslog
        self.conf.write_text(
            f'global(workDirectory="{self.work}" '
            f'processInternalMessages="on" {global_params})\n'
            f'include(file="{self.dir}/accessowl-collector.conf")\n'
            f'*.* action(type="omfile" file="{self.internal}")\n')
        self.proc = None

    def start(self):
        argv = [RSYSLOGD, "-n", "-f", str(self.conf), "-i",
                str(self.dir / "rsyslogd.pid")]
        if self.disks:
            argv = self.disks.argv(*argv)
        self.proc = subprocess.Popen(
            argv,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.proc.stderr.read()
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("rsyslogd did not listen")

    def ingests(self):
        """Pids of the ingest processes rsyslogd started (/proc: no
        procps needed)."""
        want = [HELPER, "-c", str(self.env.config_path), "ingest"]
        pids = []
        for d in Path("/proc").iterdir():
            if not d.name.isdigit():
                continue
            try:
                argv = (d / "cmdline").read_bytes().split(b"\0")[:-1]
            except OSError:
                continue
            if [a.decode(errors="replace") for a in argv] == want:
                pids.append(int(d.name))
        return pids

    def kill(self):
        """SIGKILL rsyslogd, and every ingest it started."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for pid in self.ingests():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log(self):
        return self.internal.read_text() if self.internal.exists() else ""


class RelayHost:
    """A relay host: config with a relay group and no api group, its own
    spool, state directory, client certificate and host name."""

    def __init__(self, base, certs, name, port, cert=None, url=None,
                 extra=""):
        self.name = name
        self.dir = Path(tempfile.mkdtemp(prefix="ao-relayhost-", dir=base))
        os.chmod(self.dir, 0o711)
        cert = cert or name
        key = self.dir / "host.key"
        key.write_bytes((certs.d / f"{cert}.key").read_bytes())
        protect(key)
        self.state = self.dir / "state"
        self.state.mkdir(mode=0o700)
        if os.geteuid() == 0:
            os.chown(self.state, 65534, SVC_GID)
        self.config_path = self.dir / "accessowl.conf"
        url = url or f"relp://localhost:{port}"
        self.config_path.write_text(f"""
relay: {{ url = "{url}"; ca_file = "{certs.d / 'ca.pem'}";
          cert_file = "{certs.d / (cert + '.pem')}"; key_file = "{key}";
          timeout = 5; }};
identity: {{ email_domain = "example.com"; }};
paths: {{ spool_dir = "{self.dir}/spool"; state_dir = "{self.state}"; }};
user = "nobody";
{extra}
""")
        protect(self.config_path)

    def argv(self, *args):
        return ["unshare", "-u", "sh", "-c", 'hostname "$0" && exec "$@"',
                self.name, HELPER, "-c", str(self.config_path), *args]

    def run(self, *args, timeout=120):
        return subprocess.run(self.argv(*args), capture_output=True,
                              text=True, timeout=timeout)

    def popen(self, *args):
        return subprocess.Popen(self.argv(*args), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
