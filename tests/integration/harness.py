"""Shared pieces of the integration tests and `make demo`: the fake
AccessOwl as a process, a helper config/token environment, small utilities.
Free of pytest, so the demo can use it too."""
import json
import os
import pwd
import secrets
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import http.client
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HELPER = os.environ.get("AO_HELPER", str(ROOT / "build" / "accessowl-helper"))
FAKE = ROOT / "tests" / "fake_accessowl.py"
PYTHON = "/usr/bin/python3"
CI = os.environ.get("CI") == "true"


def uuid(seed):
    """A deterministic UUID-shaped id from a string."""
    import hashlib
    h = hashlib.sha256(seed.encode()).hexdigest()
    return f"{h[0:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"


def traversable(path):
    """Let other users traverse pytest's 0700 temporary directories."""
    p = Path(path)
    while p != p.parent and str(p).startswith(tempfile.gettempdir() + "/"):
        os.chmod(p, os.stat(p).st_mode | 0o011)
        p = p.parent


def make_certs(d):
    """A throwaway CA and server certificate in d (tests/mkcerts.sh)."""
    subprocess.run(["bash", str(ROOT / "tests" / "mkcerts.sh"), str(d)],
                   check=True)
    # a deliverer started by enqueue runs as the service user and reads
    # api.ca_file itself: the CA must be reachable (keys stay 0600)
    traversable(d)
    return Path(d)


def lines(text):
    return [l for l in text.splitlines() if l.strip()]


# What `check` rightly fails on in a test environment: neither systemd nor
# cron runs here to start scan and deliver.
NO_RUNNER = "FAILED: nothing starts scan and deliver"


def check_failures(p):
    """The FAILED lines of a `check` run, but for NO_RUNNER."""
    return [l for l in lines(p.stdout)
            if l.startswith("FAILED:") and not l.startswith(NO_RUNNER)]


class Fake:
    def __init__(self, tmp, certs, fixture, args, token):
        self.tmp = tmp
        self.certs = certs
        self.token = token
        self.fixture_path = tmp / f"fixture-{secrets.token_hex(4)}.json"
        self.fixture_path.write_text(json.dumps(fixture))
        self.token_path = tmp / "fake-token"
        self.token_path.write_text(token + "\n")
        self.args = list(args)
        self.proc = None
        self.port = None
        self.ctx = ssl.create_default_context(cafile=str(certs / "ca.pem"))
        self.start()

    def start(self, port=0):
        portfile = self.tmp / f"port-{secrets.token_hex(4)}"
        self.proc = subprocess.Popen(
            [PYTHON, str(FAKE), "--fixture", str(self.fixture_path),
             "--cert", str(self.certs / "server.pem"),
             "--key", str(self.certs / "server.key"),
             "--token-file", str(self.token_path),
             "--port-file", str(portfile), "--port", str(port)] + self.args)
        deadline = time.time() + 15
        while not portfile.exists():
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("fake AccessOwl did not start")
            time.sleep(0.05)
        self.port = int(portfile.read_text())
        self.url = f"https://127.0.0.1:{self.port}"

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def control(self, method, path, body=None):
        c = http.client.HTTPSConnection("127.0.0.1", self.port,
                                        context=self.ctx, timeout=10)
        data = json.dumps(body) if body is not None else None
        c.request(method, path, body=data,
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        out = r.read()
        c.close()
        assert r.status < 300, (path, r.status, out)
        return json.loads(out) if out else None

    def requests(self):
        return self.control("GET", "/_fake/requests")

    def posts(self):
        return [r for r in self.requests()
                if r["method"] == "POST" and
                r["path"] == "/api/v1/access_revocations"]

    def revocations(self):
        return self.control("GET", "/_fake/state")["revocations"]

    def faults(self, rules):
        self.control("POST", "/_fake/faults", rules)


SVC_GID = 65534  # nobody's group: the test service user when root


def protect(path):
    """Owner only, or, as root, root:<service group> 0640 as packaged."""
    if os.geteuid() == 0:
        os.chown(path, 0, SVC_GID)
        os.chmod(path, 0o640)
    else:
        os.chmod(path, 0o600)


class Env:
    """A config + token for the helper pointing at a fake.

    Lives in its own directory that the service user can traverse (the
    helper drops to it before it touches the spool)."""

    def __init__(self, tmp, certs, fake, token, **cfg):
        self.tmp = Path(tempfile.mkdtemp(prefix="ao-env-", dir=tmp))
        os.chmod(tmp, 0o711)
        os.chmod(self.tmp, 0o711)
        self.token = token
        self.token_path = self.tmp / "token"
        self.token_path.write_text(token + "\n")
        protect(self.token_path)
        self.config_path = self.tmp / "accessowl.conf"
        self.spool = self.tmp / "spool"
        self.state = self.tmp / "state"
        # the package's tmpfiles.d entry makes the state directory; the
        # module keeps its spawn stamps there (the spool is made on demand)
        self.state.mkdir(mode=0o700)
        if os.geteuid() == 0:
            os.chown(self.state, 65534, SVC_GID)
        self.write_config(fake, certs, **cfg)

    def write_config(self, fake, certs, ca=None, timeout=3, user=None,
                     extra="", identity="", scope="", spread=0, paths=""):
        if user is None:
            user = "nobody"
        ca = ca or str(certs / "ca.pem")
        url = fake.url if fake else "https://127.0.0.1:9"
        self.config_path.write_text(f"""
api: {{ url = "{url}"; token_file = "{self.token_path}";
        ca_file = "{ca}"; timeout = {timeout}; spread = {spread}; }};
identity: {{ {identity} }};
scope: {{ {scope} }};
paths: {{ spool_dir = "{self.tmp}/spool"; state_dir = "{self.tmp}/state";
         {paths} }};
user = "{user}";
{extra}
""")
        protect(self.config_path)

    def popen(self, *args, **kw):
        return subprocess.Popen([HELPER, "-c", str(self.config_path)] +
                                list(args), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, **kw)

    def run(self, *args, timeout=120, **kw):
        p = subprocess.run([HELPER, "-c", str(self.config_path)] + list(args),
                           capture_output=True, text=True, timeout=timeout,
                           **kw)
        return p


def new_token():
    return "aot_" + secrets.token_urlsafe(32)


