#!/bin/sh
# debian-changelog.sh VERSION EPOCH MAINTAINER: debian/changelog for
# `make deb`.  The version comes from the VERSION file (the only place it
# is written down); the package is native, so the Debian version is
# VERSION itself.  MAINTAINER: "Name <address>" (DEBFULLNAME, DEBEMAIL).
set -eu
version=$1
date=$(LC_ALL=C date -u -R -d "@$2")
maintainer=$3
cat <<EOT
libpam-accessowl ($version) unstable; urgency=medium

  * Release $version (see the project's git history).

 -- $maintainer  $date
EOT
