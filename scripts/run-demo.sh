#!/bin/sh
# run-demo.sh [DIR]: `make run`. Makes DIR (default ./run) a qmail-ng
# instance if it is not one yet (me = localhost, SMTP 127.0.0.1:2525, POP3
# 127.0.0.1:2110), adds the user demo@localhost with a Maildir and the
# password "demo", allows POP3 and SMTP AUTH passwords without TLS (the
# listeners are on loopback only), starts it, checks that both listeners
# answer, and says how to use it.
#
# It builds nothing: `make run` builds first. The programs come from
# $QNG_BIN (default build/bin); the addresses of a new instance from
# $DEMO_SMTP and $DEMO_POP3 (for tests that must not take the real ports).
# The instance runs as the invoking user; when that is root, as the
# unprivileged user qngtest, since root never owns an unprivileged instance.
# Exit 0 when the demo is up; 111 otherwise.
set -eu

cd "$(dirname "$0")/.."
top=$(pwd)
bin=${QNG_BIN:-$top/build/bin}
case $bin in /*) ;; *) bin="$top/$bin" ;; esac
inst=${1:-$top/run}
case $inst in /*) ;; *) inst="$top/$inst" ;; esac
smtp=${DEMO_SMTP:-127.0.0.1:2525}
pop3=${DEMO_POP3:-127.0.0.1:2110}
password=demo

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
ctl() { as "$bin/qmailctl" -d "$inst" "$@"; }

as test -x "$bin/qmailctl" || die "$owner cannot run $bin/qmailctl; make the checkout readable by $owner"

# The programs an instance runs are its own copies in DIR/bin.
if [ ! -d "$inst/control" ]; then
  if [ -e "$inst" ] && [ -n "$(ls -A "$inst" 2>/dev/null)" ]; then
    die "$inst exists and is not an instance; remove it first"
  fi
  if [ "$(id -u)" = 0 ]; then
    mkdir -p "$inst"
    chown "$owner:" "$inst"
  fi
  as "$bin/qmailctl" init "$inst" --me localhost --smtp "$smtp" --pop3 "$pop3" >/dev/null ||
    die "qmailctl init failed"
  echo "run-demo: made instance $inst"
fi

if ctl stat 2>/dev/null | grep -q ': up '; then
  running=yes
else
  running=no
  # Stopped: bring its programs up to date with this build.
  for f in "$bin"/*; do
    [ -f "$f" ] || continue
    n=$(basename "$f")
    as cp "$f" "$inst/bin/.$n.tmp" && as chmod 755 "$inst/bin/.$n.tmp" &&
      as mv -f "$inst/bin/.$n.tmp" "$inst/bin/$n" || die "unable to update $inst/bin/$n"
  done
fi

# A control file, written as the owner.
put() {
  printf '%s\n' "$2" | as sh -c 'cat > "$1.new" && chmod 644 "$1.new" && mv -f "$1.new" "$1"' \
    sh "$inst/control/$1" || die "unable to write $inst/control/$1"
}

# demo@localhost: a virtual user with a Maildir under DIR/home/demo.
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
# users/cdb, users/recipients.cdb (qmail-smtpd's recipient check), tcp.*.cdb.
ctl cdb || die "qmailctl cdb failed"
printf '%s\n' "$password" | ctl passwd demo@localhost >/dev/null || die "qmailctl passwd failed"
# Loopback only: passwords may travel without TLS (there is no certificate).
put pop3plaintext 1
put checkpassword bin/qmail-checkpassword
put authplaintext 1

if [ "$running" = yes ]; then
  echo "run-demo: the demo instance is already running"
fi
# start starts whatever is not running yet and returns once qmail-send runs
# and every listener accepts connections.
ctl start || die "qmailctl start failed; see $inst/log/"
ctl stat || true

smtp_at=$(head -n 1 "$inst/control/listen.smtp" 2>/dev/null || echo "$smtp")
pop3_at=$(head -n 1 "$inst/control/listen.pop3" 2>/dev/null || echo "$pop3")
if [ "$(id -u)" = 0 ]; then
  pre="runuser -u $owner -- "
else
  pre=""
fi
if [ "$inst" = "$top/run" ]; then
  stop="make stop   (or build/bin/qmailctl -d run stop)"
else
  stop="$bin/qmailctl -d $inst stop"
fi
cat <<EOT

qmail-ng demo instance in $inst (run by $owner)
  user:       demo@localhost, password $password (POP3 login: demo)
  send mail:  swaks --server $smtp_at --to demo@localhost
              echo hi | ${pre}env QMAILHOME=$inst $inst/bin/qmail-inject demo@localhost
  read it:    curl pop3://demo:$password@$pop3_at/1
              python3 -c "import poplib; p = poplib.POP3('${pop3_at%:*}', ${pop3_at##*:}); p.user('demo'); p.pass_('$password'); print(p.stat())"
              ls $home/Maildir/new
  logs:       $inst/log/qmail-send/current, $inst/log/smtp/current, $inst/log/pop3/current
  status:     $bin/qmailctl -d $inst stat
  stop:       $stop
EOT
