#!/bin/sh
# install.sh: install a qmail-ng build (what `make install` runs).
#
#   sh scripts/install.sh [--prefix P] [--destdir D] [--build B] [--unitdir U]
#                         [--bindir DIR]
#
# P defaults to /usr/local, D to nothing, B to build (the CMake build
# directory whose bin/ holds the programs; --bindir names that directory
# itself). Installs, under D:
#   P/lib/qmail-ng/bin/       every program of B/bin (qmailctl init copies
#                             this directory into an instance's bin/)
#   P/sbin/qmailctl           a symlink to ../lib/qmail-ng/bin/qmailctl
#   P/lib/qmail-ng/mkservice.sh   run directories and units for an instance
#   P/share/man/man{1,5,8}/   the man pages of docs/man/
#   P/share/doc/qmail-ng/     README.md and docs/*.md (docs/README.md as index.md)
#   U                         the systemd units of etc/systemd/ (for /var/qmail);
#                             default /lib/systemd/system when P is /usr,
#                             else P/lib/systemd/system
# It makes no instance, no user and no setuid file (qmailctl init --system
# does that inside /var/qmail), and leaves /usr/sbin/sendmail alone.
set -eu

prog=install.sh
die() { echo "$prog: fatal: $*" >&2; exit 100; }
usage() { die "usage: $prog [--prefix P] [--destdir D] [--build B] [--unitdir U] [--bindir DIR]"; }

src=$(cd "$(dirname "$0")/.." && pwd)
prefix=/usr/local
destdir=
build=build
unitdir=
bindir=
while [ $# -gt 0 ]; do
  case $1 in
    --prefix|--destdir|--build|--unitdir|--bindir) [ $# -ge 2 ] || usage ;;
  esac
  case $1 in
    --prefix) prefix=$2; shift 2 ;;
    --prefix=*) prefix=${1#*=}; shift ;;
    --destdir) destdir=$2; shift 2 ;;
    --destdir=*) destdir=${1#*=}; shift ;;
    --build) build=$2; shift 2 ;;
    --build=*) build=${1#*=}; shift ;;
    --unitdir) unitdir=$2; shift 2 ;;
    --unitdir=*) unitdir=${1#*=}; shift ;;
    --bindir) bindir=$2; shift 2 ;;
    --bindir=*) bindir=${1#*=}; shift ;;
    --help) sed -n '2,21s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) usage ;;
  esac
done
case $prefix in
  /*) ;;
  *) die "--prefix wants an absolute path: $prefix" ;;
esac
prefix=${prefix%/}
if [ -z "$unitdir" ]; then
  if [ "$prefix" = /usr ]; then unitdir=/lib/systemd/system; else unitdir=$prefix/lib/systemd/system; fi
fi
case $unitdir in
  /*) ;;
  *) die "--unitdir wants an absolute path: $unitdir" ;;
esac
case $build in
  /*) ;;
  *) build=$src/$build ;;
esac
[ -n "$bindir" ] || bindir=$build/bin
[ -x "$bindir/qmailctl" ] || die "no $bindir/qmailctl: build first (make)"

# Directories 0755 and files 0644/0755 whatever the umask: the tree must
# be readable by everyone (qmailctl init runs as the instance's owner).
umask 022
libdir=$destdir$prefix/lib/qmail-ng
mkdir -p "$libdir/bin" "$destdir$prefix/sbin" "$destdir$prefix/share/doc/qmail-ng" \
  "$destdir$unitdir"

n=0
for f in "$bindir"/*; do
  if [ -f "$f" ] && [ -x "$f" ]; then
    install -m 0755 "$f" "$libdir/bin/"
    n=$((n + 1))
  fi
done
[ -f "$libdir/bin/qmail-queue" ] || die "no qmail-queue in $bindir: an incomplete build?"
ln -sfn ../lib/qmail-ng/bin/qmailctl "$destdir$prefix/sbin/qmailctl"
install -m 0755 "$src/scripts/mkservice.sh" "$libdir/mkservice.sh"

for f in "$src"/docs/man/*.[158]; do
  [ -f "$f" ] || continue
  sec=${f##*.}
  mkdir -p "$destdir$prefix/share/man/man$sec"
  install -m 0644 "$f" "$destdir$prefix/share/man/man$sec/"
done

doc=$destdir$prefix/share/doc/qmail-ng
install -m 0644 "$src/README.md" "$doc/README.md"
for f in "$src"/docs/*.md; do
  name=${f##*/}
  [ "$name" = README.md ] && name=index.md
  install -m 0644 "$f" "$doc/$name"
done

for f in "$src"/etc/systemd/*.service "$src"/etc/systemd/*.target; do
  [ -f "$f" ] || continue
  install -m 0644 "$f" "$destdir$unitdir/"
done

echo "$prog: installed $n programs in $prefix/lib/qmail-ng/bin${destdir:+ (under $destdir)}"
echo "$prog: next: qmailctl init --system --me HOST [--smtp 0.0.0.0:25 ...]; see docs/install.md"
