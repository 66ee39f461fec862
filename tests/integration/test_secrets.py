"""The token never shows in argv, the environment, output or syslog; the
helper runs as the service user when it talks to the network."""
import os
import socket
import subprocess
import threading
import time

from conftest import HELPER, need_root
from test_revoke import start

SYSLOG_WRAPPER = r"""
set -e
T=$1; shift
mkdir -p "$T/olddev"
mount --rbind /dev "$T/olddev"
mount -t tmpfs -o mode=0755 tmpfs /dev
for n in null zero full random urandom tty; do
    [ -e "$T/olddev/$n" ] || continue
    touch "/dev/$n"; mount --bind "$T/olddev/$n" "/dev/$n"
done
ln -s "$T/log.sock" /dev/log
exec "$@"
"""


def wait_running(proc, fake, n_posts):
    deadline = time.time() + 30
    while time.time() < deadline and proc.poll() is None:
        if len(fake.posts()) >= n_posts:
            return True
        time.sleep(0.05)
    return False


def test_token_not_in_argv_env_or_output(fake, env):
    f, e = start(fake, env)
    f.faults([{"method": "POST", "path": "/api/v1/access_revocations",
               "action": "slow", "seconds": 2}])
    proc = e.popen("-v", "revoke", "--user", "alice")
    assert wait_running(proc, f, 1), "helper finished before it was inspected"
    status = open(f"/proc/{proc.pid}/status").read()
    try:
        cmdline = open(f"/proc/{proc.pid}/cmdline", "rb").read()
        environ = open(f"/proc/{proc.pid}/environ", "rb").read()
    except PermissionError:
        # not dumpable (PR_SET_DUMPABLE 0) after the drop: only root reads it
        cmdline = environ = b""
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert e.token.encode() not in cmdline
    assert e.token.encode() not in environ
    assert e.token not in out and e.token not in err
    assert "debug" not in status  # sanity: we read a real status file
    assert err  # -v really produced log output that was searched


def test_process_not_dumpable(fake, env):
    f, e = start(fake, env)
    f.faults([{"method": "POST", "path": "/api/v1/access_revocations",
               "action": "slow", "seconds": 2}])
    proc = e.popen("revoke", "--user", "alice")
    assert wait_running(proc, f, 1)
    # core dumps disabled: RLIMIT_CORE 0
    limits = open(f"/proc/{proc.pid}/limits").read()
    core = [l for l in limits.splitlines() if l.startswith("Max core file size")]
    assert core and core[0].split()[4] == "0", core
    proc.communicate(timeout=60)


def test_runs_as_service_user_after_reading_root_only_token(fake, env):
    need_root()
    f, e = start(fake, env, user="nobody")
    os.chown(e.token_path, 0, 0)
    os.chmod(e.token_path, 0o600)  # nobody cannot read it: read before drop
    f.faults([{"method": "POST", "path": "/api/v1/access_revocations",
               "action": "slow", "seconds": 2}])
    proc = e.popen("revoke", "--user", "alice")
    assert wait_running(proc, f, 1)
    st = open(f"/proc/{proc.pid}/status").read().splitlines()
    uid = [l.split()[1:] for l in st if l.startswith("Uid:")][0]
    gid = [l.split()[1:] for l in st if l.startswith("Gid:")][0]
    groups = [l.split()[1:] for l in st if l.startswith("Groups:")][0]
    # undumpable after the uid change (which resets it to fs.suid_dumpable):
    # /proc/PID then belongs to root, and the service user cannot ptrace
    # the process that holds the token.  This only tells the fix apart
    # where fs.suid_dumpable is not 0 (the kernel's default is 0).
    owner = os.stat(f"/proc/{proc.pid}/status").st_uid
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert uid == ["65534"] * 4, uid
    assert gid == ["65534"] * 4, gid
    assert groups == ["65534"], groups
    assert owner == 0


def test_missing_service_user_is_78(fake, env):
    need_root()
    f, e = start(fake, env, user="no-such-svc-user")
    p = e.run("revoke", "--user", "alice")
    assert p.returncode == 78
    assert "service user 'no-such-svc-user' does not exist" in p.stderr
    assert f.requests() == []


def test_token_not_in_syslog(fake, env, tmp_path):
    """Capture what the helper sends to syslog through a private /dev/log."""
    need_root()
    f, e = start(fake, env)
    # failures and debug lines: as much logging as the helper can make
    f.faults([{"method": "POST", "path": "/api/v1/access_revocations",
               "action": "status", "status": 503},
              {"method": "POST", "path": "/api/v1/access_revocations",
               "action": "status", "status": 422}])
    t = tmp_path / "ns"
    t.mkdir()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(t / "log.sock"))
    os.chmod(t / "log.sock", 0o666)
    sock.settimeout(0.2)
    got = []
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            try:
                got.append(sock.recv(65536).decode(errors="replace"))
            except socket.timeout:
                pass
    th = threading.Thread(target=reader)
    th.start()
    try:
        p = subprocess.run(
            ["unshare", "-m", "sh", "-c", SYSLOG_WRAPPER, "sh", str(t),
             HELPER, "-v", "-c", str(e.config_path), "revoke", "--user",
             "alice"], capture_output=True, text=True, timeout=120)
        time.sleep(0.3)
    finally:
        stop.set()
        th.join()
        sock.close()
    assert p.returncode == 65, p.stderr
    assert len(got) >= 5, got  # the capture really worked
    assert all("accessowl-helper[" in m for m in got)
    # facility authpriv (10) -> <8*10+prio>
    assert all(m.startswith(("<83>", "<84>", "<85>", "<86>", "<87>"))
               for m in got), got[:3]
    assert any("HTTP 422" in m for m in got)
    text = "\n".join(got)
    assert e.token not in text
    assert e.token not in p.stdout + p.stderr
