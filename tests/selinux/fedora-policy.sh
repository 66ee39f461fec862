#!/bin/sh
# Builds Fedora's targeted policy from a checkout of its source
# (https://github.com/fedora-selinux/selinux-policy) for
#   make selinux-check AO_FEDORA_POLICY=DST
# which then also compiles the module against Fedora's headers, installs
# Fedora's modules and the module into a store in the throwaway root, and
# runs every check there.  Optional: CI has no copy of Fedora's source.
#
#   tests/selinux/fedora-policy.sh SRC DST [CONTAINER_SELINUX]
#
# SRC: the selinux-policy tree (left as it is: the build runs on a copy).
# CONTAINER_SELINUX: a checkout of containers/container-selinux, whose
# container.if Fedora's policy calls (its spec adds the file the same
# way); without it the base module does not compile.
# DST gets include/ (the headers, as selinux-policy-devel installs them),
# modules/ (base.pp and the modules Fedora's targeted policy enables, those
# that compile with this checkpolicy) and file_contexts.subs_dist.
# Takes some ten minutes; nothing outside DST and a temporary copy changes.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 SRC DST [CONTAINER_SELINUX]" >&2; exit 64; }
src=$(cd "$1" && pwd)
mkdir -p "$2"
dst=$(cd "$2" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -a "$src/." "$work/"
cd "$work"
cp dist/targeted/modules.conf policy/modules.conf
cp dist/targeted/booleans.conf policy/booleans.conf
if [ $# -ge 3 ]; then
	cp "$3/container.if" "$3/container.te" "$3/container.fc" policy/modules/contrib/
	echo "container = off" >> policy/modules.conf
fi
# the parameters of Fedora's selinux-policy.spec for "targeted"
set -- UNK_PERMS=allow NAME=targeted TYPE=mcs DISTRO=redhat UBAC=n \
	DIRECT_INITRC=n MONOLITHIC=n MLS_CATS=1024 MCS_CATS=1024
make "$@" conf >build.log 2>&1
# -k: a few modules need a newer checkpolicy than Debian's; they are left out
make -k "$@" all >>build.log 2>&1 || grep "Error 1" build.log >&2 || true
test -f base.pp || { tail -20 build.log >&2; exit 1; }
rm -rf "$dst/include" "$dst/modules"
make "$@" DESTDIR="$work/headers" install-headers >/dev/null
cp -a "$work/headers/usr/share/selinux/targeted/include" "$dst/include"
mkdir "$dst/modules"
cp base.pp "$dst/modules/"
sed -n 's/^\([A-Za-z0-9_-]*\) = module$/\1/p' dist/targeted/modules.conf |
while read -r m; do
	if [ -f "$m.pp" ]; then cp "$m.pp" "$dst/modules/"; fi
done
cp config/file_contexts.subs_dist "$dst/"
echo "built $dst: $(ls "$dst/modules" | wc -l) modules"
