"""A Debian 12 root built once with mmdebstrap and kept as a tar, for the
checks that need a whole system of their own (tests/systemd/,
tests/selinux/).  Free of pytest.

    tar = cached_tar(cache_dir, "debian", recipe, args, log)

The tar is named after a hash of the recipe (a different recipe builds a
new one), written to a temporary name and renamed, so runs at the same
time never read half a tar.  mmdebstrap's mounts (proc, sys, device nodes
for the chroot) go into a private mount namespace: the host's never sees
them.
"""
import hashlib
import json
import os
import subprocess
import tempfile
from pathlib import Path

SUITE = "bookworm"
ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
       "LANG": "C.UTF-8", "HOME": "/root", "DEBIAN_FRONTEND": "noninteractive"}


class MmdebstrapFailed(Exception):
    """mmdebstrap failed; str() is its output."""


def cached_tar(cache_dir, prefix, recipe, args, log):
    """cache_dir/PREFIX-bookworm-HASH.tar: from the cache, or built there
    now with `mmdebstrap ARGS bookworm` (recipe: what goes into the root,
    everything that ARGS says, for the hash)."""
    key = hashlib.sha256(json.dumps(dict(recipe, suite=SUITE),
                                    sort_keys=True).encode()).hexdigest()[:16]
    cache = Path(cache_dir)
    tar = cache / f"{prefix}-{SUITE}-{key}.tar"
    if tar.is_file():
        return tar
    cache.mkdir(parents=True, exist_ok=True)
    tmp = cache / f".{tar.name}.{os.getpid()}.tmp"
    log(f"building {tar} (once): mmdebstrap {SUITE} {' '.join(args)}")
    p = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "--",
         "mmdebstrap", "--format=tar", "--quiet"] + list(args) +
        [SUITE, str(tmp)],
        env=ENV, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=900)
    if p.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise MmdebstrapFailed(p.stdout + p.stderr)
    os.replace(tmp, tar)
    return tar


def unpack(tar, prefix):
    """A fresh copy of the root in a temporary directory of its own:
    (that directory, the root in it).  The caller removes the directory."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    root = work / "root"
    root.mkdir()
    subprocess.run(["tar", "-xf", str(tar), "-C", str(root),
                    "--numeric-owner"], check=True)
    return work, root
