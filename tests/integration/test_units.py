"""The systemd units (conf/systemd) and the cron file (conf/cron).

Offline and fast, as root or not: nothing is installed and no systemd needs
to run.  `systemd-analyze verify` and `systemd-analyze security --offline`
work on a throwaway root holding the units, the standard targets they
depend on (copied from the host's systemd), an executable stub at
/usr/sbin/accessowl-helper and the helper's man page (for Documentation=).
Without systemd-analyze (Debian package systemd) the unit tests skip, or
fail under CI=true.
"""
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from harness import CI, ROOT

UNITS = ROOT / "conf" / "systemd"
CRON = ROOT / "conf" / "cron" / "accessowl"
MAN = ROOT / "helper" / "accessowl-helper.8"
HELPER_PATH = "/usr/sbin/accessowl-helper"
MAX_EXPOSURE = 2.5
HOST_UNIT_DIRS = ("/usr/lib/systemd/system", "/lib/systemd/system")

UNIT_FILES = sorted(p.name for p in UNITS.glob("accessowl-*")
                    if p.suffix in (".service", ".path", ".timer"))
SERVICES = [u for u in UNIT_FILES if u.endswith(".service")]


def test_the_unit_set_is_complete():
    assert UNIT_FILES == sorted(
        [f"accessowl-{what}.{kind}" for what in ("deliver", "scan")
         for kind in ("path", "service", "timer")] +
        ["accessowl-metrics.service", "accessowl-metrics.timer"])


def analyze():
    exe = shutil.which("systemd-analyze") or "/usr/bin/systemd-analyze"
    if not os.access(exe, os.X_OK):
        msg = "systemd-analyze is missing (Debian package systemd)"
        if CI:
            pytest.fail(msg + " and CI=true")
        pytest.skip(msg)
    return exe


@pytest.fixture(scope="module")
def sysroot(tmp_path_factory):
    """A root directory for --root=: our units, the standard targets, a
    stub helper.  Also a MANPATH holding our man page (None without man)."""
    analyze()
    root = tmp_path_factory.mktemp("sysroot")
    unitdir = root / "lib" / "systemd" / "system"
    unitdir.mkdir(parents=True)
    host = next((Path(d) for d in HOST_UNIT_DIRS
                 if (Path(d) / "sysinit.target").is_file()), None)
    if host is None:
        pytest.fail("systemd-analyze is installed but no sysinit.target "
                    f"in {' or '.join(HOST_UNIT_DIRS)}")
    for t in host.glob("*.target"):
        if t.is_file():
            shutil.copy(t, unitdir / t.name)
    for u in UNIT_FILES:
        shutil.copy(UNITS / u, unitdir / u)
    stub = root / HELPER_PATH.lstrip("/")
    stub.parent.mkdir(parents=True)
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    manpath = None
    if shutil.which("man"):
        manpath = tmp_path_factory.mktemp("man")
        (manpath / "man8").mkdir()
        shutil.copy(MAN, manpath / "man8" / MAN.name)
    return root, unitdir, manpath


def run_analyze(sysroot, *args):
    root, _, manpath = sysroot
    env = dict(os.environ, SYSTEMD_PAGER="", SYSTEMD_COLORS="0",
               LC_ALL="C.UTF-8")
    if manpath:
        env["MANPATH"] = str(manpath)
    return subprocess.run([analyze(), *args, f"--root={root}"],
                          capture_output=True, text=True, env=env,
                          timeout=60)


@pytest.mark.parametrize("unit", UNIT_FILES)
def test_verify_is_clean(sysroot, unit):
    _, unitdir, manpath = sysroot
    man = [] if manpath else ["--man=no"]
    p = run_analyze(sysroot, "verify", *man, str(unitdir / unit))
    out = p.stdout + p.stderr
    assert p.returncode == 0, out
    ours = [l for l in out.splitlines() if "accessowl" in l]
    assert ours == [], out


def test_verify_notices_a_missing_helper(sysroot, tmp_path):
    """The clean verdicts above mean something: without the executable in
    the root, verify complains about ExecStart=."""
    root, unitdir, _ = sysroot
    bare = tmp_path / "bare"
    shutil.copytree(root, bare, symlinks=True)
    (bare / HELPER_PATH.lstrip("/")).unlink()
    p = run_analyze((bare, None, None), "verify", "--man=no",
                    str(bare / "lib/systemd/system/accessowl-scan.service"))
    assert p.returncode != 0
    assert HELPER_PATH in p.stdout + p.stderr


@pytest.mark.parametrize("service", SERVICES)
def test_security_exposure(sysroot, service):
    p = run_analyze(sysroot, "security", "--offline=true", "--no-pager",
                    service)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out
    m = re.search(r"Overall exposure level for (\S+): (\d+(?:\.\d+)?)", out)
    assert m, out
    assert m.group(1) == service
    assert float(m.group(2)) <= MAX_EXPOSURE, out


def unit_settings(unit):
    """{(section, key): [values]} of a unit file (no continuation lines)."""
    got, section = {}, None
    for line in (UNITS / unit).read_text().splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        k, _, v = line.partition("=")
        got.setdefault((section, k.strip()), []).append(v.strip())
    return got


@pytest.mark.parametrize("service", SERVICES)
def test_services_run_the_helper_as_the_service_user(service):
    s = unit_settings(service)
    what = service[len("accessowl-"):-len(".service")]
    run = {"metrics": "status --prometheus --output "
           "/var/lib/prometheus/node-exporter/accessowl.prom"}
    assert s[("Service", "ExecStart")] == \
        [f"{HELPER_PATH} {run.get(what, what)}"]
    assert s[("Service", "Type")] == ["oneshot"]
    assert s[("Service", "User")] == ["accessowl"]
    assert s[("Unit", "Documentation")] == ["man:accessowl-helper(8)"]
    caps = "".join(s[("Service", "CapabilityBoundingSet")])
    assert caps == {"scan": "CAP_DAC_READ_SEARCH",
                    "metrics": "CAP_DAC_OVERRIDE"}.get(what, "")


def test_deliver_path_cannot_busy_loop():
    """DirectoryNotEmpty= would restart delivery for as long as an event
    waits for its backoff; PathChanged= fires on changes only."""
    s = unit_settings("accessowl-deliver.path")
    assert ("Path", "DirectoryNotEmpty") not in s
    assert s[("Path", "PathChanged")] == ["/var/spool/accessowl/queue"]


# --- cron ----------------------------------------------------------------

SPECIALS = {"@reboot", "@yearly", "@annually", "@monthly", "@weekly",
            "@daily", "@midnight", "@hourly"}
NAMES = {3: "jan feb mar apr may jun jul aug sep oct nov dec".split(),
         4: "sun mon tue wed thu fri sat".split()}
RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]


def cron_field_ok(field, i):
    lo, hi = RANGES[i]
    names = NAMES.get(i, [])
    if field.lower() in names:
        return True
    for part in field.split(","):
        m = re.fullmatch(r"(\*|\d+(?:-\d+)?)(?:/(\d+))?", part)
        if not m or (m.group(2) is not None and int(m.group(2)) == 0):
            return False
        if m.group(1) != "*":
            a, _, b = m.group(1).partition("-")
            if not all(lo <= int(x) <= hi for x in (a, b or a)):
                return False
    return True


def cron_jobs():
    env, jobs = {}, []
    for line in CRON.read_text().splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)", s)
        if m:
            env[m.group(1)] = m.group(2)
            continue
        if s.startswith("@"):
            when, user, cmd = s.split(None, 2)
            jobs.append(([when], user, cmd))
        else:
            f = s.split(None, 6)
            assert len(f) == 7, f"not five fields, a user and a command: {s}"
            jobs.append((f[:5], f[5], f[6]))
    return env, jobs


def simple_commands(cmd):
    """First word of every simple command in a shell command line."""
    lex = shlex.shlex(cmd, posix=True, punctuation_chars=True)
    lex.whitespace_split = True
    words, first, skip = [], True, False
    for tok in lex:
        if skip:
            skip = False
            continue
        if tok in ("&&", "||", ";", "|", ")", "}"):
            first = True
            continue
        if first and tok in ("{", "(", "!"):
            continue
        if re.fullmatch(r"\d*[<>]+&?", tok):
            skip = True
            continue
        if first:
            words.append(tok)
            first = False
    return words


def test_cron_file_parses():
    text = CRON.read_text()
    assert text.endswith("\n"), "cron ignores a last line without a newline"
    assert "." not in CRON.name, "cron.d skips file names with dots"
    env, jobs = cron_jobs()
    assert env.get("SHELL") == "/bin/sh"
    path = env.get("PATH", "").split(":")
    assert path and all(p.startswith("/") for p in path), env
    assert "/usr/sbin" in path
    assert jobs
    for when, user, cmd in jobs:
        if len(when) == 1:
            assert when[0] in SPECIALS, when
        else:
            assert all(cron_field_ok(f, i) for i, f in enumerate(when)), when
        assert user == "root"
        assert "%" not in cmd, "cron turns % into a newline"
        words = simple_commands(cmd)
        assert words and all(w.startswith("/") for w in words), (cmd, words)
        for w in re.findall(r"\S*accessowl-helper\b", cmd):
            assert w == HELPER_PATH, cmd
        p = subprocess.run(["/bin/sh", "-n", "-c", cmd], capture_output=True,
                           text=True)
        assert p.returncode == 0, (cmd, p.stderr)


def test_cron_runs_scan_and_deliver_every_five_minutes_and_at_boot():
    _, jobs = cron_jobs()
    by_when = {" ".join(w): cmd for w, _, cmd in jobs}
    for when in ("*/5 * * * *", "@reboot"):
        cmd = by_when[when]
        assert f"{HELPER_PATH} scan" in cmd and f"{HELPER_PATH} deliver" in cmd
        # nothing on success; stderr (warnings, errors) still reaches cron
        assert cmd.rstrip().endswith(">/dev/null") and "2>" not in cmd


def test_cron_writes_metrics_every_minute_where_node_exporter_reads():
    _, jobs = cron_jobs()
    by_when = {" ".join(w): cmd for w, _, cmd in jobs}
    cmd = by_when["* * * * *"]
    out = "/var/lib/prometheus/node-exporter/accessowl.prom"
    assert f"{HELPER_PATH} status --prometheus --output {out}" in cmd
    assert "test -d /var/lib/prometheus/node-exporter" in cmd
    assert "test ! -d /run/systemd/system" in cmd
