#!/bin/sh
# deps.sh: install with apt only the build and test dependencies that are missing.
# Postfix is wanted for its smtp-sink/smtp-source tools only: it is installed with
# "No configuration" and its daemon is never left running.
set -eu

# build: compilers, CMake, OpenSSL, libunbound, libcrypt, GoogleTest
# tests: pytest, real clients and peers (swaks, curl, fetchmail, Postfix's
# smtp-sink/smtp-source), tinycdb's cdb, unbound as a local DNS server,
# dkimpy as an independent DKIM verifier, chromium to render reports;
# fuzzing (make fuzz): clang with libFuzzer
pkgs="g++ make cmake pkg-config libssl-dev libunbound-dev libcrypt-dev
googletest libgtest-dev libgmock-dev
python3 python3-pytest swaks curl fetchmail postfix tinycdb unbound openssl
python3-dkim python3-nacl opendkim-tools chromium
clang libclang-rt-14-dev"

missing=""
for p in $pkgs; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "deps.sh: missing packages:$missing; run as root to install them" >&2
    exit 111
  fi
else
  SUDO=
fi

echo "deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
# Keep package scripts from starting any daemon (Postfix above all).
policy=/usr/sbin/policy-rc.d
made_policy=no
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 755 "$policy"
  made_policy=yes
fi
$SUDO apt-get update -qq || true
$SUDO apt-get install -y -qq --no-install-recommends $missing
[ "$made_policy" = yes ] && $SUDO rm -f "$policy"
# Belt and braces: no Postfix master may be left listening on port 25.
if command -v postfix >/dev/null 2>&1; then
  $SUDO postfix stop >/dev/null 2>&1 || true
fi
exit 0
