#!/bin/bash
# tests/mkcerts.sh OUTDIR
#
# Make throwaway TLS material for the fake AccessOwl server (tests only):
#   OUTDIR/ca.pem,       ca.key        test CA (valid 2 days)
#   OUTDIR/server.pem,   server.key    leaf signed by that CA: CN=localhost,
#                                      SAN DNS:localhost, IP:127.0.0.1, IP:::1,
#                                      EKU serverAuth, valid 2 days
#   OUTDIR/other-ca.pem, other-ca.key  an unrelated CA ("wrong CA" tests)
#
# Keys are RSA-2048, unencrypted, mode 0600; certificates are mode 0644 so a
# helper that dropped to a service user can still read ca.pem (make OUTDIR
# itself traversable if that matters). Existing files are overwritten.
# Silent on success; on any failure prints the openssl output and exits 1.
# Works with OpenSSL 3.0 (Debian 12). Never commit the output.
set -euo pipefail

die() { echo "mkcerts.sh: $*" >&2; exit 1; }

if [ $# -ne 1 ] || [ -z "$1" ]; then die "usage: $0 OUTDIR"; fi
command -v openssl >/dev/null 2>&1 || die "openssl not found in PATH"
out=$1
mkdir -p -- "$out" || die "cannot create $out"

work=$(mktemp -d "${TMPDIR:-/tmp}/mkcerts.XXXXXX") || die "mktemp failed"
trap 'rm -rf -- "$work"' EXIT
umask 077

# Run a command; stay quiet unless it fails.
run() {
    local log
    if ! log=$("$@" 2>&1); then
        echo "mkcerts.sh: command failed: $*" >&2
        printf '%s\n' "$log" >&2
        exit 1
    fi
}

# Self-contained config: nothing from the system openssl.cnf leaks in.
cat >"$work/openssl.cnf" <<'CNF'
[req]
distinguished_name = dn
prompt             = no
[dn]
CN = placeholder
[v3_ca]
basicConstraints     = critical,CA:TRUE
keyUsage             = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_server]
basicConstraints       = critical,CA:FALSE
keyUsage               = critical,digitalSignature,keyEncipherment
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:localhost,IP:127.0.0.1,IP:::1
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid,issuer
CNF
export OPENSSL_CONF="$work/openssl.cnf"

make_ca() { # NAME CN
    run openssl req -config "$work/openssl.cnf" -x509 -new -sha256 \
        -newkey rsa:2048 -nodes -days 2 -set_serial "0x$(openssl rand -hex 16)" \
        -subj "/O=pam_accessowl tests/CN=$2" -extensions v3_ca \
        -keyout "$work/$1.key" -out "$work/$1.pem"
}

make_ca ca "throwaway test CA $$"
make_ca other-ca "unrelated test CA $$"

run openssl req -config "$work/openssl.cnf" -new -sha256 \
    -newkey rsa:2048 -nodes -subj "/O=pam_accessowl tests/CN=localhost" \
    -keyout "$work/server.key" -out "$work/server.csr"
run openssl x509 -req -sha256 -days 2 -in "$work/server.csr" \
    -CA "$work/ca.pem" -CAkey "$work/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" \
    -extfile "$work/openssl.cnf" -extensions v3_server -out "$work/server.pem"

# Fail loudly if the chain or the names are not what tests expect.
run openssl verify -CAfile "$work/ca.pem" -purpose sslserver "$work/server.pem"
run openssl verify -CAfile "$work/ca.pem" -verify_hostname localhost "$work/server.pem"
run openssl verify -CAfile "$work/ca.pem" -verify_ip 127.0.0.1 "$work/server.pem"
if openssl verify -CAfile "$work/other-ca.pem" "$work/server.pem" >/dev/null 2>&1; then
    die "server.pem unexpectedly verifies against other-ca.pem"
fi

chmod 0644 "$work"/*.pem
chmod 0600 "$work"/*.key
for f in ca.pem ca.key server.pem server.key other-ca.pem other-ca.key; do
    mv -f -- "$work/$f" "$out/$f" || die "cannot write $out/$f"
done
