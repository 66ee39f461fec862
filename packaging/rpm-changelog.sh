#!/bin/sh
# rpm-changelog.sh VERSION EPOCH PACKAGER: the spec's %changelog for
# `make rpm`, like debian-changelog.sh: the version from VERSION, the date
# of the last commit, the packager set at build time.
set -eu
date=$(LC_ALL=C date -u -d "@$2" '+%a %b %d %Y')
cat <<EOT

%changelog
* $date $3 - $1-1
- Release $1 (see the project's git history).
EOT
