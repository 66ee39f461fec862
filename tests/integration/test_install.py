"""make install puts every file where design.md says, with safe modes."""
import os
import stat
import subprocess

from harness import ROOT


def test_install_layout(tmp_path):
    dest = tmp_path / "root"
    subprocess.run(["make", "-s", "-C", str(ROOT), "install",
                    f"DESTDIR={dest}", "PREFIX=/usr"], check=True,
                   capture_output=True)
    arch = subprocess.run(["cc", "-print-multiarch"], capture_output=True,
                          text=True).stdout.strip()
    want = {
        "usr/sbin/accessowl-helper": 0o755,
        f"lib/{arch}/security/pam_accessowl.so": 0o644,
        "etc/accessowl/accessowl.conf": 0o640,
        "etc/cron.d/accessowl": 0o644,
        "usr/lib/tmpfiles.d/accessowl.conf": 0o644,
        "usr/lib/sysusers.d/accessowl.conf": 0o644,
        "usr/share/man/man8/accessowl-helper.8": 0o644,
        "usr/share/man/man8/pam_accessowl.8": 0o644,
        "usr/share/man/man5/accessowl.conf.5": 0o644,
        "usr/share/accessowl/rsyslog/accessowl-collector.conf": 0o644,
    }
    for unit in ("scan.service", "scan.path", "scan.timer",
                 "deliver.service", "deliver.path", "deliver.timer",
                 "metrics.service", "metrics.timer"):
        want[f"lib/systemd/system/accessowl-{unit}"] = 0o644
    got = {str(p.relative_to(dest)): stat.S_IMODE(p.stat().st_mode)
           for p in dest.rglob("*") if p.is_file()}
    assert got == want
    assert not (dest / "etc/accessowl/token").exists()  # the admin's job
