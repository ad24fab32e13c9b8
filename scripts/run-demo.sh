#!/bin/sh
# run-demo.sh: `make run`. Makes ./run/ a qmail-ng instance if it is not one
# yet (me = localhost, SMTP 127.0.0.1:2525, POP3 127.0.0.1:2110), adds the
# user demo@localhost with a Maildir, starts it, and says how to use it.
# It builds nothing: `make run` builds first. The instance runs as the
# invoking user; when that is root, as the unprivileged user qngtest, since
# root never owns an unprivileged instance.
set -eu

cd "$(dirname "$0")/.."
top=$(pwd)
bin="$top/build/bin"
inst="$top/run"

die() { echo "run-demo: $*" >&2; exit 111; }

[ -x "$bin/qmailctl" ] || die "no $bin/qmailctl: run make first"

if [ "$(id -u)" = 0 ]; then
  owner=qngtest
  echo "run-demo: running as root; the demo instance belongs to and runs as the"
  echo "run-demo: unprivileged user $owner (qmail never delivers to root)."
  if ! id "$owner" >/dev/null 2>&1; then
    useradd --system --user-group --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin "$owner" || die "unable to create user $owner"
  fi
  if command -v runuser >/dev/null 2>&1; then
    as() { runuser -u "$owner" -- "$@"; }
  else
    as() { setpriv --reuid="$owner" --regid="$owner" --clear-groups -- "$@"; }
  fi
else
  owner=$(id -un)
  as() { "$@"; }
fi
uid=$(id -u "$owner")
gid=$(id -g "$owner")

as test -x "$bin/qmailctl" || die "$owner cannot run $bin/qmailctl; make the checkout readable by $owner"

# The programs an instance runs are its own copies in run/bin.
if [ ! -d "$inst/control" ]; then
  if [ -e "$inst" ] && [ -n "$(ls -A "$inst" 2>/dev/null)" ]; then
    die "$inst exists and is not an instance; remove it first"
  fi
  if [ "$(id -u)" = 0 ]; then
    mkdir -p "$inst"
    chown "$owner:" "$inst"
  fi
  as "$bin/qmailctl" init "$inst" --me localhost \
    --smtp 127.0.0.1:2525 --pop3 127.0.0.1:2110 >/dev/null || die "qmailctl init failed"
  echo "run-demo: made instance $inst"
fi

running=no
if as "$bin/qmailctl" -d "$inst" stat 2>/dev/null | grep -q '^qmail-send: up'; then
  running=yes
else
  # Stopped: bring its programs up to date with this build.
  for f in "$bin"/*; do
    [ -f "$f" ] || continue
    n=$(basename "$f")
    as cp "$f" "$inst/bin/.$n.tmp" && as chmod 755 "$inst/bin/.$n.tmp" &&
      as mv -f "$inst/bin/.$n.tmp" "$inst/bin/$n" || die "unable to update $inst/bin/$n"
  done
fi

# demo@localhost: a virtual user with a Maildir under run/home/demo.
home="$inst/home/demo"
if ! grep -q '^=demo:' "$inst/users/assign" 2>/dev/null; then
  as mkdir -p "$home"
  as chmod 700 "$home"
  for d in Maildir Maildir/tmp Maildir/new Maildir/cur; do
    as mkdir -p "$home/$d"
    as chmod 700 "$home/$d"
  done
  {
    grep -v '^\.$' "$inst/users/assign" || true
    echo "=demo:$owner:$uid:$gid:$home:::"
    echo "+demo-:$owner:$uid:$gid:$home:-::"
    echo "."
  } | as sh -c 'cat > "$1.new" && chmod 644 "$1.new" && mv -f "$1.new" "$1"' sh "$inst/users/assign" ||
    die "unable to write $inst/users/assign"
  echo "run-demo: added demo@localhost (home $home)"
fi
as "$bin/qmailctl" -d "$inst" cdb || die "qmailctl cdb failed"

if [ "$running" = yes ]; then
  echo "run-demo: the demo instance is already running"
else
  as "$bin/qmailctl" -d "$inst" start || die "qmailctl start failed; see $inst/log/qmailctl.log"
fi
as "$bin/qmailctl" -d "$inst" stat || true

if [ "$(id -u)" = 0 ]; then
  pre="runuser -u $owner -- "
else
  pre=""
fi
cat <<EOT

qmail-ng demo instance in $inst (run by $owner)
  send mail:  echo hi | ${pre}env QMAILHOME=$inst build/bin/qmail-inject demo@localhost
  over SMTP:  swaks --server 127.0.0.1:2525 --to demo@localhost
              (once the SMTP listener exists; see control/listen.smtp)
  read it:    ls $home/Maildir/new
  its log:    $inst/log/qmail-send/current
  status:     build/bin/qmailctl -d run stat
  stop:       make stop   (or build/bin/qmailctl -d run stop)
EOT
