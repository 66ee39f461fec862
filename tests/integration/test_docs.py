"""The README as a new sysadmin meets it: the two commands first, then a
quick start short enough to follow, whose commands exist."""
import re
import subprocess

from conftest import HELPER, ROOT

README = (ROOT / "README.md").read_text()


def section(title):
    m = re.search(r"^## " + re.escape(title) + r"\n(.*?)(?=^## )", README,
                  re.S | re.M)
    assert m, f"README has no section '## {title}'"
    return m.group(1)


def test_the_readme_opens_with_make_demo_and_make_check():
    first = README.split("```")[1]
    assert "make demo" in first and "make check" in first


def test_a_quick_start_of_at_most_15_lines_comes_first():
    heads = re.findall(r"^## (.*)$", README, re.M)
    assert heads[0] == "Quick start: one host", heads
    body = [l for l in section("Quick start: one host").splitlines()
            if l.strip() and not l.startswith("```")]
    assert len(body) <= 15, len(body)
    text = "\n".join(body)
    # install, token, one identity rule, check, where to look, and the
    # session line's place in /etc/pam.d/sshd
    for needle in ("apt install", "/etc/accessowl/token", "identity:",
                   "accessowl-helper check", "accessowl-helper\nstatus",
                   "session optional pam_accessowl.so", "/etc/pam.d/sshd"):
        assert needle in text or needle.replace("\n", " ") in text, needle


def test_every_helper_command_the_readme_names_exists():
    names = set(re.findall(r"accessowl-helper (?:\[[^]]*\] )*([a-z]+)",
                           README))
    assert {"check", "status", "scan", "deliver", "ingest"} <= names
    for n in sorted(names):
        p = subprocess.run([HELPER, n, "--no-such-option"],
                           capture_output=True, text=True)
        # a known command refuses the option (64) with its own usage; an
        # unknown one says so
        assert "unknown command" not in p.stderr, (n, p.stderr)
