"""make selinux-check: the policy module (packaging/selinux/) compiled
against Debian's reference policy headers, installed by the .rpm's own
%post into the policy store of a throwaway root (policyroot.py), queried
with setools (properties.py), and erased again by the .rpm.

The same checks run on a copy of the module with rules removed and added
(MUTATIONS): each of them must fail there, or the check proves nothing.

AO_RPM and AO_RPM_SELINUX name the packages (selinux.mk sets them; by
default build/), AO_SELINUX_CACHE the directory that keeps the root's tar
(default build/selinux-cache).  Root; skips for a developer who is not
root, fails under CI=true.  Nothing on the host's SELinux state changes:
see policyroot.py.

With AO_FEDORA_POLICY, a directory fedora-policy.sh made from Fedora's
policy source, the module is also compiled against Fedora's headers and
installed with Fedora's modules into a store of its own, and every check
runs there too (test_fedora_*, which exist only then: CI has no copy of
Fedora's source).
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
TOP = HERE.parents[1]
sys.path.insert(0, str(HERE))

import policyroot  # noqa: E402
import properties  # noqa: E402

CI = os.environ.get("CI") == "true"
VERSION = (TOP / "VERSION").read_text().strip()
SRC = TOP / "packaging" / "selinux"
SOURCES = ("accessowl.te", "accessowl.if", "accessowl.fc")
DEVEL = Path("/usr/share/selinux/devel/Makefile")
RPM = Path(os.environ.get("AO_RPM") or next(iter(sorted(
    (TOP / "build").glob("pam_accessowl-%s-1.*.rpm" % VERSION))),
    TOP / "build" / "missing.rpm"))
RPM_SELINUX = Path(os.environ.get("AO_RPM_SELINUX") or TOP / "build" /
                   ("pam_accessowl-selinux-%s-1.noarch.rpm" % VERSION))
CACHE = Path(os.environ.get("AO_SELINUX_CACHE") or
             TOP / "build" / "selinux-cache")
FEDORA = os.environ.get("AO_FEDORA_POLICY")

# (file, text there, what it becomes, check that must fail, a word its
# failure must name).  All are applied to one copy of the module.  Not
# here: the module's own nnp_transition for init_t, which the reference
# policy's init_daemon_domain() grants as well (Fedora's does not).
MUTATIONS = [
    ("accessowl.te", "accessowl_pam_caller(sshd_t, system_r)\n", "\n",
     "helper_entered_from_callers", "sshd_t"),
    ("accessowl.if", "\trole $2 types accessowl_helper_t;\n", "\n",
     "helper_entered_from_callers", "sysadm_r"),
    ("accessowl.te", "auth_read_shadow(accessowl_helper_t)\n", "\n",
     "helper_reads_what_it_needs", "shadow_t"),
    ("accessowl.te", "corenet_tcp_connect_http_port(accessowl_helper_t)\n",
     "\n", "helper_reads_what_it_needs", "http_port_t"),
    ("accessowl.te", "kernel_read_kernel_sysctls(accessowl_helper_t)\n",
     "\n", "helper_reads_what_it_needs", "sysctl_kernel_t"),
    ("accessowl.te", "files_read_etc_files(accessowl_helper_t)\n",
     "files_manage_etc_files(accessowl_helper_t)\n",
     "helper_writes_nothing_else", "etc_t"),
    ("accessowl.te", "logging_send_syslog_msg(accessowl_helper_t)\n",
     "logging_send_syslog_msg(accessowl_helper_t)\n"
     "userdom_manage_user_home_content_files(accessowl_helper_t)\n",
     "helper_writes_nothing_else", "user_home_t"),
    ("accessowl.if", "\taccessowl_read_faillock_tally($1)\n",
     "\taccessowl_read_faillock_tally($1)\n"
     "\tmanage_files_pattern($1, accessowl_spool_t, accessowl_spool_t)\n",
     "callers_gain_only_records", "accessowl_spool_t"),
    ("accessowl.if", "\ttunable_policy(`accessowl_pam_read_shadow',`\n"
     "\t\tauth_tunable_read_shadow($1)\n\t')\n",
     "\tauth_tunable_read_shadow($1)\n",
     "callers_gain_only_records", "unconditionally"),
    ("accessowl.te", "allow init_t shadow_t:file { getattr watch };\n", "\n",
     "units_started_and_watched", "shadow_t"),
    ("accessowl.te", "gen_tunable(accessowl_write_metrics, false)",
     "gen_tunable(accessowl_write_metrics, true)",
     "booleans", "accessowl_write_metrics"),
    ("accessowl.te", "\t\tsystemd_tmpfilesd_managed(accessowl_spool_t)\n",
     "\n", "tmpfiles_makes_the_directories", "accessowl_spool_t"),
    ("accessowl.fc", "/usr/sbin/accessowl-helper\t", "/usr/bin/accessowl-helper\t",
     "file_contexts", "/usr/sbin/accessowl-helper"),
]


def need(cond, msg):
    if not cond:
        if CI:
            pytest.fail(msg)
        pytest.skip(msg)


def compile_module(src_dir, out_dir, headers=None):
    """make -f /usr/share/selinux/devel/Makefile accessowl.pp (or the
    Makefile of headers) on a copy of src_dir's module; (CompletedProcess,
    path of the .pp)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for f in SOURCES:
        shutil.copyfile(src_dir / f, out_dir / f)
    argv = ["make", "-f", str(DEVEL), "accessowl.pp"] if headers is None \
        else ["make", "-f", str(headers / "Makefile"), "NAME=targeted",
              "HEADERDIR=" + str(headers), "accessowl.pp"]
    p = subprocess.run(argv, cwd=out_dir, capture_output=True, text=True,
                       timeout=300)
    return p, out_dir / "accessowl.pp"


def local_module(dst):
    """The README's local module for a PAM user of a site's own
    (accessowl_local.te), compiled against headers that have the module's
    interface installed, as the .rpm installs it; its .pp."""
    readme = (TOP / "README.md").read_text()
    m = re.search(r"`accessowl_local\.te`:\n\n```\n(.*?)```", readme, re.S)
    assert m, "README: no accessowl_local.te"
    dst.mkdir(parents=True)
    (dst / "accessowl_local.te").write_text(m.group(1))
    hdr = dst / "include"
    shutil.copytree(DEVEL.parent / "include", hdr, symlinks=True)
    (hdr / "distributed").mkdir(exist_ok=True)
    shutil.copyfile(SRC / "accessowl.if", hdr / "distributed" / "accessowl.if")
    p = subprocess.run(["make", "-f", str(hdr / "Makefile"),
                        "HEADERDIR=" + str(hdr), "accessowl_local.pp"],
                       cwd=dst, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, "the README's local module does not " \
        "compile:\n" + p.stdout + p.stderr
    return dst / "accessowl_local.pp"


def mutate(dst):
    dst.mkdir(parents=True)
    texts = {f: (SRC / f).read_text() for f in SOURCES}
    for f, old, new, _, _ in MUTATIONS:
        assert texts[f].count(old) == 1, \
            "mutation no longer applies to %s: %r" % (f, old)
        texts[f] = texts[f].replace(old, new)
    for f, t in texts.items():
        (dst / f).write_text(t)
    return dst


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """The policies of one throwaway root: before the module, with the
    module the .rpm installed, with the mutated module; the modules listed
    after each step."""
    need(os.geteuid() == 0, "root needed (a chroot into the policy root)")
    for tool in ("mmdebstrap", "unshare", "chroot", "matchpathcon", "make"):
        need(shutil.which(tool), "missing %s (make deps installs it)" % tool)
    need(DEVEL.is_file(), "missing %s: apt-get install selinux-policy-dev"
         % DEVEL)
    need(RPM_SELINUX.is_file() and RPM.is_file(),
         "%s or %s missing: run `make selinux-check`" % (RPM, RPM_SELINUX))
    work = tmp_path_factory.mktemp("selinux")
    tar = policyroot.cached_root(CACHE, policyroot.host_policy_version())
    p, mutant = compile_module(mutate(work / "mutant-src"), work / "mutant")
    assert p.returncode == 0, "the mutated module does not compile:\n" + \
        p.stdout + p.stderr
    local = local_module(work / "local")
    out = {}
    with policyroot.PolicyRoot(tar) as r:
        out["base"] = r.save_policy(work / "base.policy")
        out["base_modules"] = r.modules()
        rpm = r.put(RPM_SELINUX, RPM_SELINUX.name)
        out["rpm_install"] = r.sh("rpm -i --nodeps %s" % rpm)
        out["modules"] = r.modules()
        out["shipped"] = r.save_policy(work / "shipped.policy")
        out["fc"] = r.save_file_contexts(work / "shipped.fc")
        r.install(local)
        out["local"] = r.save_policy(work / "local.policy")
        r.remove("accessowl_local")
        r.install(mutant)
        out["mutant"] = r.save_policy(work / "mutant.policy")
        out["mutant_fc"] = r.save_file_contexts(work / "mutant.fc")
        out["rpm_erase"] = r.sh("rpm -e pam_accessowl-selinux")
        out["erased_modules"] = r.modules()
        out["erased"] = r.save_policy(work / "erased.policy")
    return out


@pytest.fixture(scope="module")
def shipped(store):
    return properties.Policy(store["shipped"], base=store["base"])


def rpm_paths(rpm):
    out = subprocess.run(["rpm", "-qpl", str(rpm)], capture_output=True,
                         text=True, check=True).stdout.split()
    return out


# ------------------------------------------------------------ compiling

def test_the_module_compiles_without_a_warning(tmp_path):
    need(DEVEL.is_file(), "missing %s: apt-get install selinux-policy-dev"
         % DEVEL)
    p, pp = compile_module(SRC, tmp_path / "m")
    assert p.returncode == 0, p.stdout + p.stderr
    assert pp.is_file()
    noise = [l for l in (p.stdout + p.stderr).splitlines()
             if "warning" in l.lower() or "deprecated" in l.lower()]
    assert not noise, "\n".join(noise)


def test_a_compile_error_fails(tmp_path):
    need(DEVEL.is_file(), "missing %s" % DEVEL)
    src = tmp_path / "src"
    src.mkdir()
    for f in SOURCES:
        shutil.copyfile(SRC / f, src / f)
    te = src / "accessowl.te"
    te.write_text(te.read_text() + "\nallow accessowl_helper_t no_such_t:file read;\n")
    p, _ = compile_module(src, tmp_path / "m")
    assert p.returncode != 0, p.stdout + p.stderr
    assert "no_such_t" in p.stdout + p.stderr


# -------------------------------------------------- the .rpm installs it

def test_the_rpm_installs_and_erases_the_module(store):
    assert "accessowl" not in store["base_modules"]
    assert "accessowl" in store["modules"], store["rpm_install"].stderr
    assert "could not install" not in store["rpm_install"].stderr
    assert "accessowl" not in store["erased_modules"]
    erased = properties.Rules(store["erased"])
    assert not [t for t in erased.types if t.startswith("accessowl_")]


def test_the_rpm_ships_the_policy_and_its_interface():
    need(RPM_SELINUX.is_file(), "%s missing" % RPM_SELINUX)
    paths = rpm_paths(RPM_SELINUX)
    assert "/usr/share/selinux/packages/targeted/accessowl.pp.bz2" in paths
    assert "/usr/share/selinux/devel/include/distributed/accessowl.if" in paths


def test_the_readme_local_module_adds_a_pam_user(store):
    """accessowl_pam_module() from a module of a site's own: ftpd_t then
    starts the helper in its domain, as the listed callers do."""
    pol = properties.Rules(store["local"])
    assert any(str(r.source) == "ftpd_t" and
               str(r.target) == properties.EXEC and
               str(r.default) == properties.HELPER for r in pol.type_rules)
    base = properties.Rules(store["shipped"])
    assert not any(str(r.source) == "ftpd_t" and
                   str(r.target) == properties.EXEC for r in base.type_rules)


# ------------------------------------------------ what the policy grants

@pytest.mark.parametrize("check", properties.CHECKS,
                         ids=lambda c: c.__name__)
def test_property(shipped, check):
    failures = check(shipped)
    assert not failures, "\n".join(failures)


def test_file_contexts_of_what_the_packages_install(store):
    """Every file of the .rpm under the module's paths, the paths the
    scriptlets relabel, and what the helper makes: the type meant."""
    extra = []
    for path in rpm_paths(RPM):
        for prefix, t in (("/usr/sbin/accessowl-helper", properties.EXEC),
                          ("/etc/accessowl", properties.CONF),
                          ("/var/spool/accessowl", properties.SPOOL),
                          ("/var/lib/accessowl", properties.STATE)):
            if path == prefix or path.startswith(prefix + "/"):
                extra.append((path, t))
    assert len(extra) >= 5, extra
    scripts = subprocess.run(["rpm", "-qp", "--scripts", str(RPM_SELINUX)],
                             capture_output=True, text=True,
                             check=True).stdout
    relabelled = [w for line in scripts.splitlines() if "restorecon -R" in line
                  for w in line.split("restorecon -R", 1)[1].split()
                  if w.startswith("/")]
    assert relabelled, scripts
    got = properties.labels(store["fc"], relabelled)
    wrong = {p: t for p, t in got.items()
             if not (t or "").startswith("accessowl_")}
    assert not wrong, wrong
    failures = properties.file_contexts(store["fc"], extra)
    assert not failures, "\n".join(failures)


# ---------------------------------------------------- negative controls

def test_each_removed_or_added_rule_fails_its_check(store):
    """The checks on a module with MUTATIONS applied: every mutation is
    caught by the check it targets, naming what it broke."""
    pol = properties.Policy(store["mutant"], base=store["base"])
    res = properties.run_all(pol, store["mutant_fc"])
    missed = [(check, word) for _, _, _, check, word in MUTATIONS
              if not any(word in f for f in res[check])]
    assert not missed, "mutations no check caught: %s\nfailures: %s" % (
        missed, res)


# ------------------------------------ Fedora's policy (AO_FEDORA_POLICY)

if FEDORA:

    @pytest.fixture(scope="module")
    def fedora(tmp_path_factory):
        """(Policy, file contexts): Fedora's targeted policy with the module
        compiled against Fedora's headers, in a store of its own."""
        d = Path(FEDORA)
        need(os.geteuid() == 0, "root needed (a chroot into the policy root)")
        work = tmp_path_factory.mktemp("fedora")
        p, pp = compile_module(SRC, work / "m", headers=d / "include")
        assert p.returncode == 0, p.stdout + p.stderr
        mods = sorted((d / "modules").glob("*.pp"))
        assert any(m.name == "base.pp" for m in mods), mods
        tar = policyroot.cached_root(CACHE, policyroot.host_policy_version())
        with policyroot.PolicyRoot(tar) as r:
            r.sh("rm -rf /var/lib/selinux/targeted /etc/selinux/targeted")
            args = " ".join("-i " + r.put(m, m.name) for m in mods)
            r.sh("semodule -n -s targeted -X 100 " + args, timeout=1800)
            base = r.save_policy(work / "base.policy")
            r.install(pp)
            pol = r.save_policy(work / "with.policy")
            fc = r.save_file_contexts(work / "with.fc")
        shutil.copyfile(d / "file_contexts.subs_dist", str(fc) + ".subs_dist")
        return properties.Policy(pol, base=base), fc

    @pytest.mark.parametrize("check", properties.CHECKS,
                             ids=lambda c: c.__name__)
    def test_fedora_property(fedora, check):
        failures = check(fedora[0])
        assert not failures, "\n".join(failures)

    def test_fedora_file_contexts(fedora):
        failures = properties.file_contexts(fedora[1])
        assert not failures, "\n".join(failures)
