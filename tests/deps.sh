#!/bin/sh
# Installs what `make check` needs from Debian's packages.  As root on a
# fresh Debian 12 machine it runs apt-get; as anyone else it prints the
# exact command and fails.  Does nothing when everything is present.
set -eu

PKGS="build-essential pkg-config libpam0g-dev libcurl4-openssl-dev \
libjson-c-dev libconfig-dev libcmocka-dev python3 python3-pytest openssl \
ca-certificates util-linux valgrind groff-base \
libpam-wrapper libnss-wrapper libuid-wrapper pamtester openssh-server \
openssh-client passwd login mount bsdutils faketime systemd man-db \
debhelper dpkg-dev fakeroot lintian rpm git clang libclang-rt-14-dev strace rpmlint \
librelp-dev rsyslog rsyslog-relp systemd-container mmdebstrap"
# The .rpm's SELinux policy module (built against the reference policy's
# headers) and make selinux-check (setools; mmdebstrap, above, for a
# throwaway root with a policy store).  policycoreutils, which
# selinux-policy-dev brings, writes an /etc/selinux/config where there is
# none; nothing loads a policy.
PKGS="$PKGS selinux-policy-dev setools selinux-utils bzip2"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "make check needs these Debian packages:$missing" >&2
	echo "install them with:  sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# openssh-server must not start a host sshd: the tests run their own on a
# loopback port inside a private namespace.  Deny service starts while we
# install, the standard Debian way, unless a policy is already in place.
policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
	policy=/usr/sbin/policy-rc.d
	printf '#!/bin/sh\nexit 101\n' > "$policy"
	chmod 0755 "$policy"
	trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
