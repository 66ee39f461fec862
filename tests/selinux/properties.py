"""What the accessowl policy module must grant and must not, asked of a
binary policy with setools (the library behind sesearch).  Free of pytest.

Each check takes a Policy and returns a list of failures, sentences that
say what is wrong and name the type, domain, role, boolean or path
concerned; [] means the property holds.  Checks that say what the module
adds to domains that exist without it (callers_gain_only_records,
units_started_and_watched) need the store's policy from before the module
was installed as well.

    pol = Policy(path_with_module, base=path_without_module)
    failures = run_all(pol, fc_path, rpm_paths)
"""
import re
import subprocess

import setools
from setools.exception import RuleNotConditional

HELPER = "accessowl_helper_t"
EXEC = "accessowl_helper_exec_t"
CONF = "accessowl_conf_t"
SPOOL = "accessowl_spool_t"
STATE = "accessowl_var_lib_t"
RUN = "accessowl_run_t"
METRICS = "accessowl_metrics_t"

# the domains that run the PAM account and session stacks, and their roles
# (README "RHEL / Fedora" lists them)
PAM_CALLERS = {
    "sshd_t": "system_r", "local_login_t": "system_r",
    "remote_login_t": "system_r", "xdm_t": "system_r",
    "cockpit_session_t": "system_r", "crond_t": "system_r",
    "init_t": "system_r",
    "sysadm_su_t": "sysadm_r", "staff_su_t": "staff_r", "user_su_t": "user_r",
    "secadm_su_t": "secadm_r", "auditadm_su_t": "auditadm_r",
    "sysadm_sudo_t": "sysadm_r", "staff_sudo_t": "staff_r",
    "user_sudo_t": "user_r", "secadm_sudo_t": "secadm_r",
    "auditadm_sudo_t": "auditadm_r",
}
# enter the helper's domain without running the module: /etc/cron.d, a
# collector's rsyslog (omprog)
OTHER_ENTRIES = ("system_cronjob_t", "syslogd_t")
# the domains every policy of this family has; the others (cockpit, the
# confined su and sudo of each role) are covered where the policy has them
REQUIRED = {"sshd_t", "local_login_t", "crond_t", "init_t", "sysadm_su_t",
            "sysadm_sudo_t", "system_cronjob_t", "syslogd_t"}

WRITE = {"write", "append", "create", "unlink", "rename", "setattr", "link",
         "add_name", "remove_name", "rmdir", "reparent", "relabelfrom",
         "relabelto", "mounton", "quotaon", "swapon"}
FILE_CLASSES = ("file", "dir", "lnk_file")

# The attributes the helper's domain may have (each policy adds some of
# its own through the interfaces the module calls; a generated negation,
# *_typeattr_N, is no grant); any other, say files_unconfined_type, fails.
HELPER_ATTRIBUTES = {"domain", "daemon", "nsswitch_domain",
                     "can_read_shadow_passwords", "syslog_client_type",
                     "corenet_unlabeled_type", "netlabel_peer_type"}
# what the helper must never change, whoever grants it
NEVER = ("etc_t", "shadow_t", "passwd_file_t", CONF, RUN, EXEC)
NEVER_RE = re.compile(r"home(_dir)?_t$")

# What the helper may write besides its own types, and why (rules of the
# module itself, source accessowl_helper_t).
HELPER_MAY_WRITE = {
    ("var_spool_t", "dir"): "makes /var/spool/accessowl (type_transition "
                            "to accessowl_spool_t)",
    ("var_lib_t", "dir"): "makes /var/lib/accessowl, and node_exporter's "
                          "textfile (accessowl_metrics_t)",
    ("init_tmpfs_t", "file"): "files systemd hands its services "
                              "(init_domain, base policy)",
    (HELPER, "file"): "its own /proc/self",
}
HELPER_OWN_WRITABLE = (SPOOL, STATE, METRICS)

# What the module may add to a domain that runs the PAM module: (target,
# class) -> permissions.  Anything else it adds to such a domain fails.
_DIR_RW = {"getattr", "search", "open", "read", "lock", "ioctl", "write",
           "add_name", "remove_name"}
CALLER_MAY_GAIN = {
    (EXEC, "file"): {"getattr", "open", "read", "execute", "map", "ioctl",
                     "lock"},
    (EXEC, "dir"): {"getattr", "search", "open", "read", "lock", "ioctl"},
    (EXEC, "lnk_file"): {"getattr", "read"},
    (HELPER, "process"): {"transition", "sigkill", "signal"},
    (HELPER, "process2"): {"nnp_transition", "nosuid_transition"},
    (RUN, "dir"): _DIR_RW | {"create", "watch", "watch_reads"},
    (RUN, "file"): {"getattr", "open", "read", "lock", "ioctl", "write",
                    "append", "create", "rename", "unlink", "link",
                    "setattr", "watch", "watch_reads"},
    ("var_run_t", "dir"): _DIR_RW,
    ("var_run_t", "lnk_file"): {"getattr", "read"},
    ("var_t", "dir"): {"getattr", "search", "open"},
    ("var_t", "lnk_file"): {"getattr", "read"},
    ("faillog_t", "dir"): {"getattr", "search", "open", "read", "lock",
                           "ioctl"},
    ("faillog_t", "file"): {"getattr", "open", "read", "lock", "ioctl"},
    ("shadow_t", "file"): {"getattr", "open", "read", "lock", "ioctl"},
    ("etc_t", "dir"): {"getattr", "search", "open", "read", "lock", "ioctl"},
    ("sysctl_kernel_t", "file"): {"getattr", "open", "read", "lock", "ioctl"},
    ("sysctl_kernel_t", "dir"): {"getattr", "search", "open", "read", "lock",
                                 "ioctl"},
    ("sysctl_t", "dir"): {"getattr", "search", "open", "read", "lock",
                          "ioctl"},
    ("proc_t", "dir"): {"getattr", "search", "open", "read", "lock", "ioctl"},
    ("bin_t", "dir"): {"getattr", "search", "open"},
    ("bin_t", "lnk_file"): {"getattr", "read"},
}
# ... and of those, only under the boolean named
CALLER_CONDITIONAL = {("shadow_t", "file"): "accessowl_pam_read_shadow"}
# init_t also starts the units (init_daemon_domain: resource limits passed
# on, sockets systemd may create for a service) and watches for them
INIT_MAY_GAIN = {
    (HELPER, "process"): {"rlimitinh"},
    (HELPER, "unix_stream_socket"): {"accept", "append", "bind", "connect",
                                     "create", "getattr", "getopt", "ioctl",
                                     "listen", "read", "setattr", "setopt",
                                     "shutdown", "write"},
    ("shadow_t", "file"): {"getattr", "watch"},
    (SPOOL, "dir"): {"getattr", "watch"},
}
# what a caller never gains on the spool, the state, the metrics and the
# config (the token!): anything but looking at them
HARMLESS = {"getattr", "search", "watch"}

BOOLEANS = {"accessowl_pam_read_shadow": True, "accessowl_write_metrics": False}

# installed path -> the type restorecon gives it
FILE_TYPES = {
    "/usr/sbin/accessowl-helper": EXEC,
    "/sbin/accessowl-helper": EXEC,
    "/usr/bin/accessowl-helper": EXEC,
    "/etc/accessowl": CONF,
    "/etc/accessowl/accessowl.conf": CONF,
    "/etc/accessowl/token": CONF,
    "/etc/accessowl/relay/host.key": CONF,
    "/var/spool/accessowl": SPOOL,
    "/var/spool/accessowl/queue/0123.json": SPOOL,
    "/var/lib/accessowl": STATE,
    "/var/lib/accessowl/scan.state": STATE,
    "/var/lib/accessowl/people/alice": STATE,
    "/run/accessowl": RUN,
    "/run/accessowl/alice": RUN,
    "/var/run/accessowl/alice": RUN,
    "/var/lib/prometheus/node-exporter/accessowl.prom": METRICS,
    # not ours: the module is loaded by sshd as any PAM module
    "/usr/lib64/security/pam_accessowl.so": "lib_t",
    "/etc/shadow": "shadow_t",
    "/run/faillock/alice": "faillog_t",
}


class Rules:
    """The allow and type rules of one binary policy, indexed once (a
    setools query scans every rule; the checks ask a few hundred)."""

    def __init__(self, path):
        self.p = setools.SELinuxPolicy(str(path))
        self.types = {str(t) for t in self.p.types()}
        self.names = {str(t): {str(t)} | {str(a) for a in t.attributes()}
                      for t in self.p.types()}
        self.members = {str(a): {str(t) for t in a.expand()}
                        for a in self.p.typeattributes()}
        self.bools = {str(b): b.state for b in self.p.bools()}
        self.allow_rules = {}     # (source, target, class) -> [Rule]
        self.type_rules = []      # type_transition
        for r in self.p.terules():
            kind = str(r.ruletype)
            if kind == "allow":
                self.allow_rules.setdefault(
                    (str(r.source), str(r.target), str(r.tclass)),
                    []).append(Rule(r))
            elif kind == "type_transition":
                self.type_rules.append(r)

    def expand(self, name):
        return self.members.get(name, {name})


class Rule:
    __slots__ = ("perms", "cond", "branch", "text")

    def __init__(self, r):
        self.perms = frozenset(r.perms)
        try:
            self.cond, self.branch = r.conditional, r.conditional_block
        except RuleNotConditional:
            self.cond = self.branch = None
        self.text = str(r)

    def active(self, state):
        """In effect with the booleans as in state?"""
        if self.cond is None:
            return True
        return self.cond.evaluate(**{str(b): state[str(b)]
                                     for b in self.cond.booleans}) \
            == self.branch

    def condition(self):
        return None if self.cond is None else (str(self.cond), self.branch)


class Policy:
    def __init__(self, path, base=None):
        self.path = str(path)
        self.r = Rules(path)
        self.p = self.r.p
        self.base = Rules(base) if base else None
        self.types = self.r.types
        self.bools = self.r.bools

    def rules(self, source, target, tclass):
        """The allow rules that apply to source on target:tclass (through
        the attributes of either)."""
        out = []
        for s in self.r.names.get(source, {source}):
            for t in self.r.names.get(target, {target}):
                out += self.r.allow_rules.get((s, t, tclass), [])
        return out

    def granted(self, source, target, tclass, state=None):
        """Permissions source has on target:tclass with the booleans at
        their defaults (or as in state)."""
        state = state if state is not None else self.bools
        have = set()
        for r in self.rules(source, target, tclass):
            if r.active(state):
                have |= r.perms
        return have

    def rules_from(self, source, classes):
        """(target type, class, Rule, written for source itself) for every
        allow rule that applies to source, targets expanded."""
        names = self.r.names.get(source, {source})
        for (s, t, c), rs in self.r.allow_rules.items():
            if s in names and c in classes:
                for tt in self.r.expand(t):
                    for r in rs:
                        yield tt, c, r, s == source

    def transitions(self, source, target=None, tclass=None):
        """type_transition rules written for source exactly."""
        return [r for r in self.r.type_rules if str(r.source) == source and
                (target is None or str(r.target) == target) and
                (tclass is None or str(r.tclass) == tclass)]

    def roles_of(self, t):
        return {str(r) for r in self.p.roles() if t in
                {str(x) for x in r.types()}}


def missing(pol, source, target, tclass, perms, what):
    lack = set(perms) - pol.granted(source, target, tclass)
    if lack:
        return ["%s lacks %s on %s:%s (%s)" % (source, " ".join(sorted(lack)),
                                              target, tclass, what)]
    return []


def _present(pol, names, out):
    """The names this policy has; a missing one of REQUIRED fails."""
    for n in names:
        if n not in pol.types and n in REQUIRED:
            out.append("%s: no such type in this policy" % n)
    return [n for n in names if n in pol.types]


# ------------------------------------------------------------------ checks

def helper_entered_from_callers(pol):
    """Every domain that runs the PAM module, and system_cronjob_t and
    syslogd_t, enters accessowl_helper_t on exec of the helper; the helper
    may run in each one's role; the PAM callers may kill it."""
    out = []
    for src in _present(pol, list(PAM_CALLERS) + list(OTHER_ENTRIES), out):
        if not any(str(r.default) == HELPER for r in
                   pol.transitions(src, EXEC, "process")):
            out.append("no type_transition %s %s:process %s" % (src, EXEC,
                                                              HELPER))
        out += missing(pol, src, EXEC, "file", {"execute", "read", "open",
                                                "getattr"}, "exec the helper")
        out += missing(pol, src, HELPER, "process", {"transition"},
                       "enter the helper's domain")
        out += missing(pol, HELPER, src, "fd", {"use"},
                       "inherit stdin/out/err")
        out += missing(pol, HELPER, src, "process", {"sigchld"},
                       "be waited for")
        if src in PAM_CALLERS:
            out += missing(pol, src, HELPER, "process", {"sigkill"},
                           "kill a helper that overstays its second")
        lack = pol.roles_of(src) - pol.roles_of(HELPER)
        if lack:
            out.append("%s runs in role(s) %s, which %s is not allowed in: "
                       "the transition would give an invalid context" %
                       (src, ", ".join(sorted(lack)), HELPER))
    out += missing(pol, HELPER, EXEC, "file", {"entrypoint", "execute",
                                              "read", "open"},
                   "its entry point")
    return out


def units_started_and_watched(pol):
    """systemd starts the units (NoNewPrivileges=yes: nnp_transition) and
    watches /etc/shadow, /etc/passwd and the queue (the .path units).  The
    module grants what matters itself, whatever the base policy gives
    init_t (the reference policy's init_t may watch anything; Fedora's
    may not watch shadow_t)."""
    out = missing(pol, "init_t", HELPER, "process2",
                  {"nnp_transition", "nosuid_transition"},
                  "NoNewPrivileges=yes in the units")
    passwd = "passwd_file_t" if "passwd_file_t" in pol.types else "etc_t"
    out += missing(pol, "init_t", passwd, "file", {"watch"},
                   "accessowl-scan.path watches /etc/passwd")
    own = own_rules(pol, "init_t")
    for tgt, cls, perms, what in (
            (HELPER, "process2", {"nnp_transition"}, "the units"),
            ("shadow_t", "file", {"watch"},
             "accessowl-scan.path watches /etc/shadow"),
            (SPOOL, "dir", {"watch"},
             "accessowl-deliver.path watches the queue")):
        if not perms <= own.get((tgt, cls), set()):
            out.append("the module does not grant init_t %s on %s:%s "
                       "itself (%s)" % (" ".join(sorted(perms)), tgt, cls,
                                        what))
    return out


def helper_reads_what_it_needs(pol):
    """shadow, passwd, the config and token, the CA store, the faillock
    tally; syslog, DNS, HTTPS and RELP; the capabilities of the drop."""
    out = []
    read = {"open", "read", "getattr"}
    passwd = "passwd_file_t" if "passwd_file_t" in pol.types else "etc_t"
    for tgt, cls, perms, what in (
            ("shadow_t", "file", read, "/etc/shadow"),
            (passwd, "file", read, "/etc/passwd"),
            ("etc_t", "file", read, "login.defs, faillock.conf"),
            (CONF, "file", read, "the config and the token"),
            (CONF, "dir", {"search", "read", "open"}, "/etc/accessowl"),
            ("cert_t", "file", read, "the CA store"),
            ("faillog_t", "file", read, "pam_faillock's tally"),
            ("sysctl_kernel_t", "file", read, "the boot id"),
            ("devlog_t", "sock_file", {"write"}, "syslog"),
            ("syslogd_t", "unix_dgram_socket", {"sendto"}, "syslog"),
            ("http_port_t", "tcp_socket", {"name_connect"},
             "HTTPS to AccessOwl"),
            ("dns_port_t", "tcp_socket", {"name_connect"}, "DNS"),
            ("syslogd_port_t", "tcp_socket", {"name_connect"},
             "RELP to a collector"),
            (HELPER, "capability", {"setuid", "setgid", "dac_read_search",
                                    "chown"}, "the privilege drop"),
            (HELPER, "process", {"setcap", "setrlimit"}, "the drop")):
        out += missing(pol, HELPER, tgt, cls, perms, what)
    return out


def helper_manages_its_own(pol):
    """The spool and the state: create, write, rename, remove; the
    metrics file and CAP_DAC_OVERRIDE only with accessowl_write_metrics."""
    out = []
    files = {"create", "write", "rename", "unlink", "read", "open",
             "getattr", "setattr", "lock"}
    dirs = {"create", "add_name", "remove_name", "write", "search", "read",
            "rmdir", "rename", "setattr", "lock"}
    for t in (SPOOL, STATE):
        out += missing(pol, HELPER, t, "file", files, "its own files")
        out += missing(pol, HELPER, t, "dir", dirs, "its own directories")
    on = dict(pol.bools, accessowl_write_metrics=True)
    off = dict(pol.bools, accessowl_write_metrics=False)
    for tgt, cls, perms in ((METRICS, "file", {"create", "write", "rename",
                                               "unlink"}),
                            (HELPER, "capability", {"dac_override"})):
        if not perms <= pol.granted(HELPER, tgt, cls, on):
            out.append("accessowl_write_metrics on: %s lacks %s on %s:%s" %
                       (HELPER, " ".join(sorted(perms)), tgt, cls))
        left = perms & pol.granted(HELPER, tgt, cls, off)
        if left:
            out.append("accessowl_write_metrics off: %s still has %s on "
                       "%s:%s" % (HELPER, " ".join(sorted(left)), tgt, cls))
    made = {(str(r.target), str(r.tclass)): str(r.default)
            for r in pol.transitions(HELPER) if not hasattr(r, "filename")}
    for (parent, cls), t in ((("var_spool_t", "dir"), SPOOL),
                             (("var_lib_t", "dir"), STATE)):
        if made.get((parent, cls)) != t:
            out.append("no type_transition %s %s:%s %s (the directory the "
                       "helper makes there)" % (HELPER, parent, cls, t))
    return out


def helper_writes_nothing_else(pol):
    """The module's own rules let the helper write files, directories and
    links of its own types only (and HELPER_MAY_WRITE); its domain has no
    attribute beyond HELPER_ATTRIBUTES; and nothing, the base policy
    included, lets it open for writing, create, remove or rename etc_t,
    shadow_t, its config, the module's records or anything in a home
    directory (a write to a descriptor someone handed it, which the base
    policy allows every daemon on some types, is not that)."""
    out = []
    for t, cls, r, direct in pol.rules_from(HELPER, FILE_CLASSES):
        w = r.perms & WRITE
        if not w:
            continue
        never = t in NEVER or NEVER_RE.search(t)
        if direct and t not in HELPER_OWN_WRITABLE and \
                (t, cls) not in HELPER_MAY_WRITE:
            out.append("%s may %s %s:%s%s, by: %s" % (
                HELPER, " ".join(sorted(w)), t, cls,
                " (never: %s)" % t if never else "", r.text))
        elif never and (w - {"write", "append"} or "open" in r.perms):
            out.append("%s may %s %s:%s (never: %s), by: %s" % (
                HELPER, " ".join(sorted(w)), t, cls, t, r.text))
    extra = {a for a in pol.r.names[HELPER] - {HELPER}
             if a not in HELPER_ATTRIBUTES and
             not re.search(r"_typeattr_\d+$", a)}
    if extra:
        out.append("%s has attribute(s) %s" % (HELPER,
                                                 ", ".join(sorted(extra))))
    return sorted(set(out))


def own_rules(pol, source, with_conditions=False):
    """What the module added to an existing domain: (target type, class)
    -> permissions (with_conditions: (target, class, condition) ->
    permissions, condition None or (boolean expression, branch)), rules
    with source exactly that domain, compared with the policy without the
    module (rules of one key merge in a binary policy, so the comparison
    is by key)."""
    def keyed(rules):
        out = {}
        for (s, t, c), rs in rules.allow_rules.items():
            if s == source:
                for r in rs:
                    out.setdefault((t, c, r.condition()), set()).update(
                        r.perms)
        return out
    if pol.base is None:
        raise ValueError("own_rules needs the policy without the module")
    before, after = keyed(pol.base), keyed(pol.r)
    gained = {}
    for (tgt, cls, cond), perms in after.items():
        new = perms - before.get((tgt, cls, cond), set())
        for t in pol.r.expand(tgt) if new else ():
            key = (t, cls, cond) if with_conditions else (t, cls)
            gained.setdefault(key, set()).update(new)
    return gained


def callers_gain_only_records(pol):
    """What the module adds to each domain that runs the PAM module: the
    helper's exec and transition, the module's records (accessowl_run_t),
    the faillock tally, and /etc/shadow under accessowl_pam_read_shadow;
    nothing on the spool, the state, the metrics or the config and token."""
    out = []
    for src in _present(pol, list(PAM_CALLERS), out):
        gained = own_rules(pol, src, with_conditions=True)
        for (tgt, cls, cond), perms in sorted(gained.items(), key=str):
            may = CALLER_MAY_GAIN.get((tgt, cls), set())
            if src == "init_t":
                may = may | INIT_MAY_GAIN.get((tgt, cls), set())
            extra = perms - may
            if tgt in (SPOOL, STATE, METRICS, CONF) and perms - HARMLESS:
                out.append("%s gains %s on %s:%s (never)" % (
                    src, " ".join(sorted(perms - HARMLESS)), tgt, cls))
            elif extra:
                out.append("%s gains %s on %s:%s, beyond what the module "
                           "needs" % (src, " ".join(sorted(extra)), tgt, cls))
            boolean = CALLER_CONDITIONAL.get((tgt, cls))
            reads = perms & {"read", "open"}
            if boolean and reads and cond != (boolean, True):
                out.append("%s gains %s on %s:%s %s, not only with %s on" % (
                    src, " ".join(sorted(reads)), tgt, cls,
                    "unconditionally" if cond is None else
                    "under %s %s" % cond, boolean))
        # the attributes it gains: only the one that lets it read shadow
        new = pol.r.names[src] - pol.base.names.get(src, set()) - \
            {"can_read_shadow_passwords"}
        if new:
            out.append("%s gains attribute(s) %s" % (src,
                                                     ", ".join(sorted(new))))
        out += missing(pol, src, RUN, "file", {"create", "write", "rename",
                                               "unlink", "read", "open"},
                       "the module's records")
        out += missing(pol, src, "faillog_t", "file", {"read", "open"},
                       "pam_faillock's tally")
        out += missing(pol, src, "sysctl_kernel_t", "file", {"read", "open"},
                       "the boot id")
        on = dict(pol.bools, accessowl_pam_read_shadow=True)
        if not {"read", "open"} <= pol.granted(src, "shadow_t", "file", on):
            out.append("%s cannot read shadow_t with accessowl_pam_read_shadow"
                       " on" % src)
        if not any(str(r.default) == RUN and
                   getattr(r, "filename", None) == "accessowl"
                   for r in pol.transitions(src, "var_run_t", "dir")):
            out.append("no type_transition %s var_run_t:dir %s \"accessowl\" "
                       "(the module makes /run/accessowl)" % (src, RUN))
    return out


def booleans(pol):
    out = []
    for b, want in BOOLEANS.items():
        if b not in pol.bools:
            out.append("no boolean %s" % b)
        elif pol.bools[b] != want:
            out.append("boolean %s is %s by default, not %s" % (
                b, pol.bools[b], want))
    return out


def tmpfiles_makes_the_directories(pol):
    """systemd-tmpfiles makes the spool, the state and /run/accessowl."""
    out = []
    for t in (SPOOL, STATE, RUN):
        out += missing(pol, "systemd_tmpfiles_t", t, "dir",
                       {"create", "setattr", "relabelto", "getattr"},
                       "tmpfiles.d/accessowl.conf")
    return out


def labels(fc, paths):
    """path -> type, from a file_contexts file (matchpathcon, which applies
    the policy's path equivalences: /var/run is /run)."""
    p = subprocess.run(["matchpathcon", "-N", "-f", str(fc)] + list(paths),
                       capture_output=True, text=True)
    out = {}
    for line in p.stdout.splitlines():
        path, _, ctx = line.partition("\t")
        parts = ctx.split(":")
        out[path] = parts[2] if len(parts) >= 4 else None
    return out


def file_contexts(fc, extra=()):
    """Every path the packages install or the helper makes gets the type
    meant for it; extra: (path, type) pairs, the .rpm's own files."""
    want = dict(FILE_TYPES)
    want.update(dict(extra))
    got = labels(fc, sorted(want))
    return ["%s is labelled %s, not %s" % (p, got.get(p), t)
            for p, t in sorted(want.items()) if got.get(p) != t]


CHECKS = (helper_entered_from_callers, units_started_and_watched,
          helper_reads_what_it_needs, helper_manages_its_own,
          helper_writes_nothing_else, callers_gain_only_records, booleans,
          tmpfiles_makes_the_directories)


def run_all(pol, fc, extra_paths=()):
    """{check name: failures} for every check, file contexts included."""
    res = {c.__name__: c(pol) for c in CHECKS}
    res["file_contexts"] = file_contexts(fc, extra_paths)
    return res
