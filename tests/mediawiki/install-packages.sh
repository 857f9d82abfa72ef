#!/bin/sh
# Installs the Debian packages the integration tests' local MediaWiki needs.
# Idempotent: installs nothing when every package is already there, and runs
# `apt-get update` only when a package is missing (so a warm machine stays offline).
# Run as root on Debian 12 (bookworm): sh tests/mediawiki/install-packages.sh
set -eu

PACKAGES="mediawiki php-cli php-sqlite3 php-intl php-mbstring php-xml imagemagick"

is_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing=""
for package in $PACKAGES; do
    is_installed "$package" || missing="$missing $package"
done

if [ -z "$missing" ]; then
    echo "install-packages: all present ($PACKAGES)"
    exit 0
fi

echo "install-packages: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update
# shellcheck disable=SC2086  # word splitting of the package list is intended
apt-get install -y --no-install-recommends $missing
