#!/usr/bin/env bash
# Install the Debian packages vmgui needs (idempotent).
#
#   mariadb-server/-client       private test instance (scripts/mariadb-test.sh)
#   pkg-config, build-essential,
#   default-libmysqlclient-dev   mysqlclient compiles from source against libmariadb
#   tzdata                       /usr/share/zoneinfo for the MariaDB time-zone tables
#   tshark                       mergecap: the media tests compare our pcap merge with it
#   libldap2-dev, libsasl2-dev   python-ldap (django-auth-ldap) compiles against them
#   slapd, ldap-utils            a real OpenLDAP server for the LDAP sign-in tests (started by
#                                the tests on their own port; never configured as a service)
#   chromium                     the browser of the end-to-end tests (Playwright drives it;
#                                tests/browser.py; Playwright never downloads a browser)
#   redis-server                 the multi-host tests start a private one (tests/redisserver.py;
#                                never configured as a service)
#
# Fast no-op when everything is installed: dpkg-query is checked first and
# `apt-get update` only runs when something is missing.
set -euo pipefail

PACKAGES=(
    mariadb-server
    mariadb-client
    pkg-config
    build-essential
    default-libmysqlclient-dev
    tzdata
    tshark
    libldap2-dev
    libsasl2-dev
    slapd
    ldap-utils
    chromium
    redis-server
)

missing=()
for pkg in "${PACKAGES[@]}"; do
    # "ii" = desired install, currently installed. Anything else (absent,
    # removed with config left, half-configured) counts as missing.
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
    if [[ "$status" != ii* ]]; then
        missing+=("$pkg")
    fi
done

if ((${#missing[@]} == 0)); then
    echo "system-deps: all ${#PACKAGES[@]} Debian packages already installed"
    exit 0
fi

echo "system-deps: missing Debian packages: ${missing[*]}"
if ((EUID != 0)); then
    echo "system-deps: not running as root; install them with:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi

# Never prompt (CI has no stdin). Installing mariadb-server may start the
# system service on port 3306 (where an init system allows it); harmless, the
# tests use their own private instance on another port.
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
# slapd would ask for a domain and an admin password: leave it unconfigured (the tests run
# their own slapd from a temporary configuration).
echo "slapd slapd/no_configuration boolean true" | debconf-set-selections
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
echo "system-deps: installed ${missing[*]}"
