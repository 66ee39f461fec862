"""make systemd-check: the .deb and its units under a real systemd.

Every other test of the units reads them (test_units.py) or asks a fake
systemctl what the maintainer scripts wanted (packaging/tests).  Here a
Debian 12 root boots systemd 252 in systemd-nspawn (container.py: private
network, not registered, a fresh copy of a cached root, removed at the
end), the fake AccessOwl runs inside it on the container's own loopback,
and the tests below follow one admin through it, in order:

  the previous version installed: path units and timers enabled and
  started, the baseline scan taken, no failed unit; the upgrade restarts
  them; usermod -L, usermod -e 1 and userdel of people with access:
  accessowl-scan.path starts the scan, accessowl-deliver.path the
  delivery, each state filed once, every run Result=success; a locked
  user's SSH key login (scan units stopped, so only the module can tell):
  its event delivered through accessowl-deliver.path; systemd-analyze
  security no worse than today; each service's sandbox seen from inside
  (a probe as ExecStart); drop-ins that break a unit make those checks
  fail (so they can); the timers fire, the metrics timer enabled as its
  comment says; node_exporter reads the metrics; a reboot brings every
  unit back and /run/accessowl with it; dpkg -r stops every unit, purge
  leaves no link.

What it cannot check: MemoryMax= and IPAddressDeny= are accepted but not
enforced in this container.  The host gives nspawn no delegated cgroup
controllers (cgroups v1/hybrid, no systemd on the host), so the
container's systemd has no memory controller to set a limit with, and no
cgroup-bpf firewall; systemd-analyze security still scores the settings.

AO_DEB, AO_PREV_DEB, AO_VERSION and AO_PREV_VERSION come from the make
target; AO_SYSTEMD_CACHE is where the root's tar is kept (default
build/systemd-cache).  Root only; skips for a developer without root,
systemd-nspawn (systemd-container) or mmdebstrap, fails under CI=true.
"""
import json
import os
import re
import shlex
import shutil
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
TOP = HERE.parents[1]
sys.path.insert(0, str(TOP / "tests" / "integration"))
sys.path.insert(0, str(HERE))

import container  # noqa: E402
from harness import make_certs, new_token  # noqa: E402
from worlds import people, person_states  # noqa: E402

CI = os.environ.get("CI") == "true"
VERSION = os.environ.get("AO_VERSION") or (TOP / "VERSION").read_text().strip()
DEB = Path(os.environ.get("AO_DEB") or "AO_DEB-unset")
PREV_DEB = Path(os.environ.get("AO_PREV_DEB") or "AO_PREV_DEB-unset")
PREV_VERSION = os.environ.get("AO_PREV_VERSION") or VERSION + "~prev"
CACHE = Path(os.environ.get("AO_SYSTEMD_CACHE") or
             TOP / "build" / "systemd-cache")

PATHS = ["accessowl-scan.path", "accessowl-deliver.path"]
TIMERS = ["accessowl-scan.timer", "accessowl-deliver.timer"]
STARTED = PATHS + TIMERS
SERVICES = ["accessowl-scan.service", "accessowl-deliver.service",
            "accessowl-metrics.service"]
# systemd-analyze security, today: no unit may get worse
EXPOSURE = {"accessowl-deliver.service": 1.2, "accessowl-scan.service": 0.7,
            "accessowl-metrics.service": 0.7}
PEOPLE = ("alice", "bob", "carol", "dave")
# in the container's own network namespace: no port of the host's
FAKE_PORT = 8443
PROM_DIR = "/var/lib/prometheus/node-exporter"
PROM_FILE = PROM_DIR + "/accessowl.prom"
STAGE = container.STAGE

CONFIG = f"""# written by test_systemd.py
api: {{ url = "https://127.0.0.1:{FAKE_PORT}"; ca_file = "/etc/accessowl/test-ca.pem";
        timeout = 10; spread = 0; }};
identity: {{ email_domain = "example.com"; }};
"""

FAKECTL = r"""import json, ssl, sys, http.client
ctx = ssl.create_default_context(cafile="/ao-test/ca.pem")
c = http.client.HTTPSConnection("127.0.0.1", int(sys.argv[1]), context=ctx,
                                timeout=10)
body = sys.stdin.read() or None
c.request(sys.argv[2], sys.argv[3], body=body,
          headers={"Content-Type": "application/json"})
r = c.getresponse()
data = r.read()
if r.status >= 300:
    sys.exit("%s %s: %d %s" % (sys.argv[2], sys.argv[3], r.status, data))
sys.stdout.write(data.decode() or "null")
"""


def log(msg):
    print(f"systemd-check: {msg}", file=sys.stderr, flush=True)


def usec(v):
    """A systemctl show value in microseconds: a number, or a timespan
    ("32min 45.857031s") as the *Monotonic properties of timers print."""
    if not v or v.isdigit():
        return int(v or 0)
    units = {"us": 1, "ms": 1e3, "s": 1e6, "min": 60e6, "h": 3600e6,
             "d": 86400e6, "w": 7 * 86400e6}
    parts = re.findall(r"([\d.]+)(us|ms|min|s|h|d|w)(?![a-z])", v)
    if not parts or re.sub(r"[\d.]+(us|ms|min|s|h|d|w)|\s", "", v):
        raise ValueError(f"not a timespan: {v!r}")
    return int(sum(float(n) * units[u] for n, u in parts))


def now_us():
    """CLOCK_MONOTONIC in microseconds: the container shares the host's,
    and systemd's *Monotonic properties are on it."""
    return int(time.monotonic() * 1e6)


def prerequisites():
    missing = []
    if os.geteuid() != 0:
        missing.append("root")
    for tool, pkg in (("systemd-nspawn", "systemd-container"),
                      ("mmdebstrap", "mmdebstrap"), ("nsenter", "util-linux"),
                      ("unshare", "util-linux"), ("dpkg-deb", "dpkg"),
                      ("openssl", "openssl")):
        if shutil.which(tool) is None:
            missing.append(f"{tool} (Debian package {pkg})")
    for deb in (DEB, PREV_DEB):
        if not deb.is_file():
            missing.append(f"the .deb {deb} (run `make systemd-check`)")
    if missing:
        msg = "systemd-check needs " + ", ".join(missing)
        if CI:
            pytest.fail(msg + ", and CI=true")
        pytest.skip(msg)


class World:
    """The booted container, what runs in it, and how to ask it things."""

    def __init__(self, box, token):
        self.c = box
        self.token = token

    def sh(self, script, check=True, **kw):
        return self.c.sh(script, check=check, **kw)

    def show(self, unit, *props):
        out = self.sh("systemctl show " + shlex.quote(unit) + "".join(
            " -p " + p for p in props)).stdout
        return dict(line.split("=", 1) for line in out.splitlines()
                    if "=" in line)

    def failed_units(self):
        return self.sh("systemctl list-units --failed --all --plain "
                       "--no-legend").stdout.splitlines()

    def our_units(self):
        """Every accessowl-* unit systemd knows: {unit: (load, active)}."""
        out = self.sh("systemctl list-units --all --plain --no-legend "
                      "'accessowl-*'").stdout
        units = {}
        for line in out.splitlines():
            f = line.split()
            if len(f) >= 3:
                units[f[0]] = (f[1], f[2])
        return units

    def cursor(self):
        out = self.sh("journalctl --show-cursor -n0 -q").stdout
        m = re.search(r"-- cursor: (\S+)", out)
        return m.group(1) if m else None

    def journal(self, cursor, unit=None):
        args = f"--after-cursor={shlex.quote(cursor)}" if cursor else ""
        if unit:
            args += f" -u {shlex.quote(unit)}"
        return self.sh(f"journalctl -q --no-pager -o short-monotonic "
                       f"{args}", check=False).stdout

    def wait(self, cond, what, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            got = cond()
            if got:
                return got
            if time.monotonic() > deadline:
                pytest.fail(f"timed out ({timeout} s) waiting for {what}\n"
                            + self.journal(None)[-4000:])
            time.sleep(0.2)

    def idle(self, *units):
        """Wait until none of the units is starting or running."""
        self.wait(lambda: all(self.show(u, "ActiveState")["ActiveState"]
                              not in ("activating", "active", "reloading",
                                      "deactivating") for u in units),
                  f"{', '.join(units)} to finish")

    # ------------------------------------------------------- fake AccessOwl

    def fake(self, method, path, body=None):
        p = self.sh(f"python3 {STAGE}/fakectl.py {FAKE_PORT} {method} {path}",
                    input=json.dumps(body) if body is not None else "")
        return json.loads(p.stdout)

    def revocations(self):
        return self.fake("GET", "/_fake/state")["revocations"]

    def start_fake(self):
        self.sh(f"rm -f /run/fake-accessowl.port && systemd-run --quiet "
                f"--unit=fake-accessowl --property=Type=exec "
                f"/usr/bin/python3 {STAGE}/fake_accessowl.py "
                f"--fixture {STAGE}/fixture.json --cert {STAGE}/server.pem "
                f"--key {STAGE}/server.key --token-file {STAGE}/fake-token "
                f"--port {FAKE_PORT} --port-file /run/fake-accessowl.port")
        self.wait(lambda: self.sh("test -s /run/fake-accessowl.port",
                                  check=False).returncode == 0,
                  "the fake AccessOwl to listen")


def filed_per_state(w):
    """{state id: number of revocations filed for it}"""
    counts = {}
    for r in w.revocations():
        counts[r["access_state_id"]] = counts.get(r["access_state_id"], 0) + 1
    return counts


def all_filed(w, name):
    counts = filed_per_state(w)
    return all(counts.get(s, 0) >= 1 for s in person_states(name))


def run_problems(w, service, since_us, cursor):
    """What is wrong with SERVICE's runs since since_us: none started, or
    one that did not end in success (its last Result, and any failure
    systemd logged since the journal cursor)."""
    st = w.show(service, "ExecMainStartTimestampMonotonic", "ActiveState",
                "Result", "ExecMainStatus", "ExecMainCode")
    problems = []
    if usec(st.get("ExecMainStartTimestampMonotonic")) <= since_us:
        problems.append(f"{service} did not run")
    if st["Result"] != "success" or st["ActiveState"] == "failed":
        problems.append(f"{service}: Result={st['Result']} "
                        f"ActiveState={st['ActiveState']} "
                        f"status={st['ExecMainStatus']}")
    failures = [l for l in w.journal(cursor, service).splitlines()
                if "Failed with result" in l or
                ("Main process exited" in l and "status=0/SUCCESS" not in l)]
    if failures:
        problems.append(f"{service} failed since: " + "; ".join(failures))
    if problems:
        problems.append(w.journal(cursor, service)[-3000:])
    return problems


# ------------------------------------------------------------- the world

@pytest.fixture(scope="module")
def w(tmp_path_factory):
    prerequisites()
    started = time.monotonic()
    tar = container.cached_root(CACHE, [DEB, PREV_DEB], log)
    log(f"root ready after {time.monotonic() - started:.0f} s")
    tmp = tmp_path_factory.mktemp("systemd-check")
    certs = make_certs(tmp / "certs")
    token = new_token()
    (tmp / "fixture.json").write_text(json.dumps(people(*PEOPLE)))
    (tmp / "fake-token").write_text(token + "\n")
    (tmp / "fakectl.py").write_text(FAKECTL)
    box = container.Container(tar, log)
    try:
        box.unpack()
        for src, name in ((DEB, "new.deb"), (PREV_DEB, "prev.deb"),
                          (TOP / "tests" / "fake_accessowl.py",
                           "fake_accessowl.py"),
                          (HERE / "probe.py", "probe.py"),
                          (tmp / "fixture.json", "fixture.json"),
                          (tmp / "fake-token", "fake-token"),
                          (tmp / "fakectl.py", "fakectl.py"),
                          (certs / "ca.pem", "ca.pem"),
                          (certs / "server.pem", "server.pem")):
            box.stage(src, name)
        box.stage(certs / "server.key", "server.key", mode=0o600)
        box.boot()
        world = World(box, token)
        world.start_fake()
        # the people, each with a real password (a lock is '!' before a
        # hash) and a home; dave logs in with a key
        for n in PEOPLE:
            world.sh(f"useradd -m -s /bin/bash {n} && "
                     f"echo '{n}:pw-{n}-1' | chpasswd")
        world.sh("install -d -m 0700 /root/.ssh && "
                 "ssh-keygen -q -t ed25519 -N '' -f /root/.ssh/id_dave && "
                 "install -d -m 0700 -o dave -g dave /home/dave/.ssh && "
                 "install -m 0600 -o dave -g dave /root/.ssh/id_dave.pub "
                 "/home/dave/.ssh/authorized_keys")
        yield world
    finally:
        box.close()
        log(f"container gone; {time.monotonic() - started:.0f} s in all")
    # nothing of it left on the host (close() raises if it could not
    # remove something)
    assert box.work is None and box.cgroups == [] and box.init is None


# ------------------------------------------------------ install, upgrade

def test_install_of_the_previous_version_starts_the_units(w):
    p = w.sh(f"dpkg -i {STAGE}/prev.deb")
    assert "error" not in (p.stdout + p.stderr).lower(), p.stdout + p.stderr
    assert w.sh("accessowl-helper --version").stdout.split()[-1] == \
        PREV_VERSION
    for u in STARTED:
        assert w.sh(f"systemctl is-enabled {u}", check=False
                    ).stdout.strip() == "enabled", u
        assert w.show(u, "ActiveState")["ActiveState"] == "active", u
    # the baseline scan ran, as the service user
    assert w.sh("stat -c %U /var/lib/accessowl/scan.state").stdout.strip() \
        == "accessowl"
    assert w.failed_units() == []
    # the admin configures it: the fake's URL and CA, a token
    w.sh("install -m 0644 /ao-test/ca.pem /etc/accessowl/test-ca.pem")
    w.sh("cat > /etc/accessowl/accessowl.conf", input=CONFIG)
    w.sh("install -m 0640 -o root -g accessowl /dev/null "
         "/etc/accessowl/token && cat > /etc/accessowl/token",
         input=w.token + "\n")
    p = w.sh("accessowl-helper check", check=False)
    assert p.returncode == 0, p.stdout + p.stderr


def test_upgrade_restarts_the_units(w):
    before = {u: w.show(u, "InvocationID")["InvocationID"] for u in STARTED}
    p = w.sh(f"dpkg -i {STAGE}/new.deb")
    assert "error" not in (p.stdout + p.stderr).lower(), p.stdout + p.stderr
    assert w.sh("accessowl-helper --version").stdout.split()[-1] == VERSION
    for u in STARTED:
        st = w.show(u, "InvocationID", "ActiveState")
        assert st["ActiveState"] == "active", u
        assert st["InvocationID"] != before[u], f"{u} was not restarted"
    # the admin's config kept
    assert "test_systemd.py" in w.sh("cat /etc/accessowl/accessowl.conf"
                                     ).stdout
    assert w.failed_units() == []


# ------------------------------------------ the path units, the module

LOCKS = [("alice", "usermod -L alice", "locked"),
         ("bob", "usermod -e 1 bob", "expired"),
         ("carol", "userdel carol", "deleted")]


@pytest.mark.parametrize("name,command,event", LOCKS,
                         ids=[c.split()[0] + " " + c.split()[1]
                              if c.split()[1].startswith("-") else
                              c.split()[0] for _, c, _ in LOCKS])
def test_a_change_fires_scan_then_deliver(w, name, command, event):
    # the timers stopped: only the path units can start a run here
    w.sh("systemctl stop " + " ".join(TIMERS))
    since, cursor = now_us(), w.cursor()
    w.sh(command)
    w.wait(lambda: all_filed(w, name), f"{name}'s states filed")
    w.idle("accessowl-scan.service", "accessowl-deliver.service")
    for s in ("accessowl-scan.service", "accessowl-deliver.service"):
        assert run_problems(w, s, since, cursor) == []
    ev = [e for e in json.loads(w.sh("accessowl-helper status --json").stdout)
          if e["user"] == name]
    assert [(e["event"], e["queue"]) for e in ev] == [(event, "delivered")]


def test_a_locked_users_key_login_is_delivered(w):
    # the scan units stopped first: only the login can report dave
    w.sh("systemctl stop accessowl-scan.path accessowl-scan.timer "
         "accessowl-deliver.timer")
    w.idle("accessowl-scan.service")
    w.sh("usermod -L dave")
    assert w.sh("getent shadow dave").stdout.split(":")[1].startswith("!$")
    since, cursor = now_us(), w.cursor()
    p = w.sh("ssh -o BatchMode=yes -o StrictHostKeyChecking=no "
             "-o UserKnownHostsFile=/dev/null -i /root/.ssh/id_dave "
             "dave@127.0.0.1 'echo in as $(id -un)'", check=False)
    # the module only observes: the key login works
    assert p.returncode == 0 and "in as dave" in p.stdout, p.stdout + p.stderr
    w.wait(lambda: all_filed(w, "dave"), "dave's states filed")
    w.idle("accessowl-deliver.service")
    assert run_problems(w, "accessowl-deliver.service", since, cursor) == []
    # nothing but the login told: the scan did not run
    assert usec(w.show("accessowl-scan.service",
                       "ExecMainStartTimestampMonotonic")
                ["ExecMainStartTimestampMonotonic"]) < since
    [ev] = [e for e in json.loads(w.sh("accessowl-helper status --json")
                                  .stdout) if e["user"] == "dave"]
    assert (ev["event"], ev["service"], ev["queue"]) == \
        ("locked", "sshd", "delivered")
    w.sh("systemctl start accessowl-scan.path")


def test_each_state_filed_once(w):
    counts = filed_per_state(w)
    want = {s: 1 for n in PEOPLE for s in person_states(n)}
    assert counts == want
    assert w.failed_units() == []


# --------------------------------------------------------- the sandbox

@pytest.mark.parametrize("service", SERVICES)
def test_security_exposure_no_worse_than_today(w, service):
    out = w.sh(f"systemd-analyze security --no-pager {service}").stdout
    m = re.search(r"Overall exposure level for (\S+): (\d+(?:\.\d+)?)", out)
    assert m and m.group(1) == service, out
    assert float(m.group(2)) <= EXPOSURE[service], out


DROPIN_DIR = "/run/systemd/system/{}.d"


def dropin(w, service, name, text):
    d = DROPIN_DIR.format(service)
    w.sh(f"mkdir -p {d} && cat > {d}/{name}.conf && systemctl daemon-reload",
         input=text)


def undrop(w, service, name):
    w.sh(f"rm -f {DROPIN_DIR.format(service)}/{name}.conf && "
         f"systemctl daemon-reload && {{ systemctl reset-failed {service} "
         f"2>/dev/null || true; }}")


def probe(w, service):
    """The probe run as SERVICE's ExecStart (a drop-in changing that and
    where its output goes, nothing else): what it saw."""
    out = f"/run/ao-probe-{service}.json"
    dropin(w, service, "zz-probe", f"""[Service]
ExecStart=
ExecStart=/usr/bin/python3 {STAGE}/probe.py
StandardOutput=truncate:{out}
""")
    try:
        p = w.sh(f"systemctl start {service}", check=False)
        assert p.returncode == 0, p.stderr + w.journal(None, service)[-2000:]
        return json.loads(w.sh(f"cat {out}").stdout)
    finally:
        undrop(w, service, "zz-probe")


CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2
# what each service may hold (its one capability) and write (only these
# of the probe's directories; /tmp and /var/tmp are its private ones)
OWN = {"/var/spool/accessowl", "/var/lib/accessowl"}
SANDBOX = {
    "accessowl-scan.service": (1 << CAP_DAC_READ_SEARCH, OWN),
    "accessowl-deliver.service": (0, OWN),
    "accessowl-metrics.service": (1 << CAP_DAC_OVERRIDE, OWN | {PROM_DIR}),
}
PRIVATE = {"/tmp", "/var/tmp"}


def sandbox_problems(service, seen):
    caps, writable = SANDBOX[service]
    problems = []
    ids = seen["ids"]
    if (ids["user"], ids["group"]) != ("accessowl", "accessowl") or \
            ids["euid"] != ids["uid"]:
        problems.append(f"runs as {ids}")
    st = seen["status"]
    for k in ("CapPrm", "CapEff", "CapBnd", "CapAmb"):
        if int(st[k], 16) != caps:
            problems.append(f"{k}={st[k]}, not {caps:#x}")
    if st["NoNewPrivs"] != "1":
        problems.append("NoNewPrivs off")
    if st["Seccomp"] != "2":
        problems.append(f"no seccomp filter (Seccomp={st['Seccomp']})")
    made = {d for d, r in seen["create"].items() if r == "ok"}
    if made != writable | PRIVATE:
        problems.append(f"writable: {sorted(made)}, not "
                        f"{sorted(writable | PRIVATE)}")
    for d in ("/", "/etc", "/etc/accessowl", "/usr", "/usr/sbin", "/var/lib",
              "/run"):
        if seen["create"][d] != "EROFS":
            problems.append(f"{d} not read-only ({seen['create'][d]})")
    # ProtectHome=: empty, or not even that (EACCES without a capability)
    for d, r in seen["home"].items():
        if r not in ([], "EACCES"):
            problems.append(f"{d} shows {r}")
    return problems


@pytest.mark.parametrize("service", SERVICES)
def test_the_sandbox_is_what_the_unit_says(w, service):
    seen = probe(w, service)
    problems = sandbox_problems(service, seen)
    assert not problems, "\n".join(problems) + "\n" + json.dumps(seen)
    # no network but the unit's: scan and metrics have none, not even IP
    socks = seen["sockets"]
    assert socks["AF_UNIX"] == "ok"
    assert socks["AF_NETLINK"] == "EAFNOSUPPORT"
    if service == "accessowl-deliver.service":
        assert socks["AF_INET"] == socks["AF_INET6"] == "ok"
    else:
        assert socks["AF_INET"] == socks["AF_INET6"] == "EAFNOSUPPORT"
        assert seen["netdevs"] == ["lo"]
    # set, though not enforced here (see the top of this file)
    limits = w.show(service, "MemoryMax", "IPAddressDeny")
    if service == "accessowl-deliver.service":
        assert limits["MemoryMax"] == str(256 << 20)
    else:
        assert sorted(limits["IPAddressDeny"].split()) == ["0.0.0.0/0", "::/0"]
    # PrivateDevices: pseudo-devices only
    assert not [d for d in seen["devices"] if re.match(r"(sd|vd|nvme|loop|"
                                                       r"mem|kmsg)", d)]


def test_negative_controls_fail_the_checks(w):
    """The checks above can fail: a drop-in that takes the spool and the
    state away (ReadWritePaths= emptied), or that forbids openat, fails
    the same checks on the same services."""
    scan = "accessowl-scan.service"
    dropin(w, scan, "zz-negative", "[Service]\nReadWritePaths=\n")
    try:
        seen = probe(w, scan)
        assert any("writable" in p for p in sandbox_problems(scan, seen))
        since, cursor = now_us(), w.cursor()
        w.sh("useradd -m erin")        # a change the scan must record
        w.wait(lambda: usec(w.show(scan, "ExecMainStartTimestampMonotonic")
                            ["ExecMainStartTimestampMonotonic"]) > since,
               "the scan to run")
        w.idle(scan)
        assert run_problems(w, scan, since, cursor) != []
    finally:
        undrop(w, scan, "zz-negative")
    deliver = "accessowl-deliver.service"
    dropin(w, deliver, "zz-negative", "[Service]\nSystemCallFilter=~openat\n")
    try:
        since, cursor = now_us(), w.cursor()
        w.sh(f"systemctl start {deliver}", check=False)
        w.idle(deliver)
        assert run_problems(w, deliver, since, cursor) != []
    finally:
        undrop(w, deliver, "zz-negative")
    # and without the drop-ins both are fine again
    since, cursor = now_us(), w.cursor()
    w.sh(f"systemctl start {scan} {deliver}")
    assert run_problems(w, scan, since, cursor) == []
    assert run_problems(w, deliver, since, cursor) == []
    assert w.failed_units() == []


# ---------------------------------------------------- timers, metrics

def test_the_timers_fire(w):
    """Started after their OnBootSec= has passed, a timer elapses at once;
    before, at OnBootSec=.  Either way each starts its service, which
    succeeds.  The metrics timer is enabled as its comment says."""
    since, cursor = now_us(), w.cursor()
    w.sh("systemctl start " + " ".join(TIMERS))
    w.sh("systemctl enable --now accessowl-metrics.timer")
    timers = TIMERS + ["accessowl-metrics.timer"]

    def fired():
        return all(usec(w.show(t, "LastTriggerUSecMonotonic")
                        ["LastTriggerUSecMonotonic"]) > since
                   for t in timers)
    w.wait(fired, "every timer to fire", timeout=200)
    services = [t.replace(".timer", ".service") for t in timers]
    w.idle(*services)
    for s in services:
        assert run_problems(w, s, since, cursor) == []
    assert w.failed_units() == []


def test_node_exporter_reads_the_metrics(w):
    st = w.sh(f"stat -c '%a %U' {PROM_FILE}").stdout.split()
    assert st == ["644", "accessowl"], st
    # node_exporter's user, and node_exporter itself
    p = w.sh(f"runuser -u prometheus -- cat {PROM_FILE}", check=False)
    assert p.returncode == 0, p.stderr
    assert 'accessowl_events{queue="delivered"} 4' in p.stdout, p.stdout
    scrape = w.sh("python3 -c 'import urllib.request, sys; sys.stdout.write("
                  "urllib.request.urlopen(\"http://127.0.0.1:9100/metrics\","
                  " timeout=10).read().decode())'").stdout
    assert 'accessowl_events{queue="delivered"} 4' in scrape
    assert "node_textfile_scrape_error 0" in scrape, \
        [l for l in scrape.splitlines() if "textfile" in l]


# ----------------------------------------------------- reboot, removal

def test_an_upgrade_keeps_the_metrics_timer_as_the_admin_left_it(w):
    before = w.show("accessowl-metrics.timer", "InvocationID")["InvocationID"]
    w.sh(f"dpkg -i {STAGE}/new.deb")
    st = w.show("accessowl-metrics.timer", "InvocationID", "ActiveState",
                "UnitFileState")
    assert (st["UnitFileState"], st["ActiveState"]) == ("enabled", "active")
    assert st["InvocationID"] != before, "not restarted"
    assert w.failed_units() == []


def test_a_reboot_brings_every_unit_back(w):
    w.c.reboot()
    for u in STARTED + ["accessowl-metrics.timer"]:
        assert w.show(u, "ActiveState")["ActiveState"] == "active", u
    st = w.sh("stat -c '%a %U %G' /run/accessowl").stdout.split()
    assert st == ["700", "root", "root"]
    assert w.failed_units() == []
    assert w.sh("systemctl is-system-running", check=False
                ).stdout.strip() == "running"


def test_remove_stops_every_unit(w):
    assert w.show("accessowl-metrics.timer", "ActiveState")[
        "ActiveState"] == "active"
    w.sh("dpkg -r libpam-accessowl")
    w.sh("systemctl daemon-reload")
    running = {u: s for u, s in w.our_units().items()
               if s[1] != "inactive"}
    assert running == {}
    assert w.failed_units() == []
    assert w.sh("systemctl is-system-running", check=False
                ).stdout.strip() == "running"


def test_purge_leaves_no_link(w):
    w.sh("dpkg -P libpam-accessowl")
    w.sh("systemctl daemon-reload")
    links = w.sh("find /etc/systemd/system \\( -lname '*accessowl*' -o "
                 "-name '*accessowl*' \\) -print").stdout.split()
    assert links == []
    dangling = w.sh("find /etc/systemd /lib/systemd -xtype l").stdout.split()
    assert dangling == []
    assert w.our_units() == {}
    assert w.failed_units() == []
