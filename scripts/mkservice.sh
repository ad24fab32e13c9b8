#!/bin/sh
# mkservice.sh: supervision for a qmail-ng instance, outside qmailctl.
#
#   sh scripts/mkservice.sh [--qmail DIR] [--all] OUTDIR
#       daemontools / runit service directories in OUTDIR: qmail-send and,
#       for each listener configured in DIR/control/listen.SERVICE (every
#       listener with --all), qmail-smtpd, qmail-pop3d, qmail-qmtpd,
#       qmail-qmqpd; each with `run` and `log/run`.
#   sh scripts/mkservice.sh [--qmail DIR] --systemd OUTDIR
#       systemd units for the instance: qmail-send.service, one .service per
#       listener and qmail.target (etc/systemd/ is this for /var/qmail).
#
# DIR defaults to /var/qmail. The run scripts and units read the control
# files when they start, as qmailctl start does, and run the same command
# lines (docs/install.md says where they differ: no tcpserver -1, and under
# daemontools qmail-send's log goes through log/run). Each writes its pid to
# DIR/supervise/ before it execs, so qmailctl stat, doqueue and reload work.
set -eu

prog=mkservice.sh
die() { echo "$prog: fatal: $*" >&2; exit 100; }
usage() { die "usage: $prog [--qmail DIR] [--all] [--systemd] OUTDIR"; }

qmail=/var/qmail
mode=rundirs
all=0
out=
while [ $# -gt 0 ]; do
  case $1 in
    --qmail) [ $# -ge 2 ] || usage; qmail=$2; shift 2 ;;
    --qmail=*) qmail=${1#--qmail=}; shift ;;
    --all) all=1; shift ;;
    --systemd) mode=systemd; shift ;;
    --help) sed -n '2,17s/^# \{0,1\}//p' "$0"; exit 0 ;;
    -*) usage ;;
    *) [ -z "$out" ] || usage; out=$1; shift ;;
  esac
done
[ -n "$out" ] || usage
case $qmail in
  /*) ;;
  *) die "--qmail wants an absolute path: $qmail" ;;
esac
# The path goes into shell text and unit files unquoted: keep it plain.
case $qmail in
  *[!A-Za-z0-9/._+-]*) die "--qmail path has characters other than A-Z a-z 0-9 / . _ + -: $qmail" ;;
esac
qmail=${qmail%/}
[ -n "$qmail" ] || die "--qmail must not be /"

# The four listeners: service, program, the -M text (empty: none), root?
# (as qmailctl's kServices in src/bin/qmailctl/layout.cc).
listeners='smtp qmail-smtpd
pop3 qmail-pop3d
qmtp qmail-qmtpd
qmqp qmail-qmqpd'

too_many() {
  case $1 in
    smtp) printf '%s' '421 4.7.0 too many connections from your address (#4.7.0)\r\n' ;;
    pop3) printf '%s' '-ERR too many connections from your address\r\n' ;;
  esac
}

# The program tcpserver runs for a connection.
server_program() {
  case $1 in
    pop3) echo "@D@/bin/qmail-popup \"\$me\" @D@/bin/qmail-checkpassword @D@/bin/qmail-pop3d Maildir" ;;
    *) echo "@D@/bin/$2" ;;
  esac
}

# The shell text that starts a listener in the foreground: qmailctl's
# tcpserver command line (src/bin/qmailctl/listener.cc, tcpserver_argv)
# without -1. Every line ends so that joining the lines with spaces is
# still one valid command (systemd wants one line), and it has no single
# quote (systemd's ExecStart wraps it in them).
listener_body() {  # service program
  s=$1
  p=$2
  m=$(too_many "$s" | sed 's/\\/\\\\/g')  # sed's replacement text
  prog_line=$(server_program "$s" "$p")
  {
    cat <<'EOF'
cd @D@ || exit 111;
ctl() { v=; read -r v 2>/dev/null <"control/$1"; printf %s "$v"; };
num() { v=$(ctl "$1"); v=${v%%[!0-9]*}; [ -n "$v" ] || v=$2; [ ${#v} -le 7 ] || v=1000000; v=$(expr "$v" + 0); [ "$v" -le 1000000 ] || v=1000000; [ "$v" -ge "$3" ] || v=$3; printf %s "$v"; };
addr=$(ctl listen.@S@);
[ -n "$addr" ] || { echo "@P@: fatal: no @D@/control/listen.@S@ (one line HOST:PORT)" >&2; exit 100; };
[ -f control/tcp.@S@.cdb ] || { echo "@P@: fatal: no @D@/control/tcp.@S@.cdb: run qmailctl -d @D@ cdb" >&2; exit 100; };
host=${addr%:*}; host=${host#[}; host=${host%]}; port=${addr##*:};
me=$(ctl me); [ -n "$me" ] || me=localhost;
c=$(num concurrencyincoming 40 1); C=$(num concurrencyperip 10 0);
set -- -v -c "$c" -C "$C";
EOF
    if [ -n "$m" ]; then
      echo 'if [ "$C" != 0 ]; then m=$(printf %b "@M@_"); set -- "$@" -M "${m%_}"; fi;'
    fi
    echo 'set -- "$@" -l "$me" -x @D@/control/tcp.@S@.cdb;'
    if [ "$s" != pop3 ]; then
      # POP3 stays root: qmail-checkpassword becomes the mailbox's owner.
      cat <<'EOF'
if [ "$(stat -c %u .)" = 0 ]; then u=$(id -u qmaild) && g=$(getent group nofiles | cut -d: -f3) && [ -n "$g" ] || { echo "@P@: fatal: no user qmaild or group nofiles" >&2; exit 111; }; set -- "$@" -u "$u" -g "$g"; fi;
EOF
    fi
    cat <<'EOF'
{ echo $$ >supervise/@S@.pid.new && mv -f supervise/@S@.pid.new supervise/@S@.pid; } 2>/dev/null || echo "@P@: warning: unable to write @D@/supervise/@S@.pid" >&2;
EOF
    echo 'exec env - PATH=@D@/bin:/usr/local/bin:/usr/bin:/bin QMAILHOME=@D@ @D@/bin/tcpserver "$@" -- "$host" "$port" @PROG@'
  } | sed -e "s|@PROG@|$prog_line|" -e "s|@M@|$m|" -e "s|@S@|$s|g" -e "s|@P@|$p|g" \
        -e "s|@D@|$qmail|g"
}

# qmail-send: `qmail-start DEFAULTDELIVERY [logger args]` in the
# foreground, as qmailctl start (src/bin/qmailctl/service.cc).
send_body() {  # logger args, or nothing
  {
    cat <<'EOF'
cd @D@ || exit 111;
dd=; read -r dd 2>/dev/null <control/defaultdelivery; [ -n "$dd" ] || dd=./Maildir/;
{ echo $$ >supervise/qmail-send.pid.new && mv -f supervise/qmail-send.pid.new supervise/qmail-send.pid; } 2>/dev/null || echo "qmail-start: warning: unable to write @D@/supervise/qmail-send.pid" >&2;
EOF
    echo "exec env - PATH=@D@/bin:/usr/local/bin:/usr/bin:/bin QMAILHOME=@D@ @D@/bin/qmail-start \"\$dd\"$1"
  } | sed -e "s|@D@|$qmail|g"
}

# log/run: qmail-logger DIR/log/NAME, as qmaill:nofiles in the system
# instance (as qmailctl and qmail-start run it).
log_run() {  # log directory name
  sed -e "s|@D@|$qmail|g" -e "s|@L@|$1|g" <<'EOF'
#!/bin/sh
# Generated by qmail-ng's mkservice.sh: the logger of this service.
mkdir -p @D@/log/@L@ || exit 111
if [ "$(id -u)" = 0 ] && [ "$(stat -c %u @D@)" = 0 ]; then
  chown qmaill:nofiles @D@/log/@L@ || exit 111
  exec setpriv --reuid=qmaill --regid=nofiles --clear-groups @D@/bin/qmail-logger @D@/log/@L@
fi
exec @D@/bin/qmail-logger @D@/log/@L@
EOF
}

write_file() {  # path mode; text on stdin
  cat >"$1.new"
  chmod "$2" "$1.new"
  mv -f "$1.new" "$1"
}

service_dir() {  # name; run body on stdin
  d=$out/$1
  mkdir -p "$d/log"
  {
    echo '#!/bin/sh'
    echo "# Generated by qmail-ng's mkservice.sh for $qmail: $1 in the foreground."
    echo 'exec 2>&1'
    cat
  } | write_file "$d/run" 0755
}

make_rundirs() {
  mkdir -p "$out"
  # Under supervise qmail-send's log is its stdout, into log/run: the
  # logger then outlives a restart of qmail-send.
  send_body "" | service_dir qmail-send
  log_run qmail-send | write_file "$out/qmail-send/log/run" 0755
  echo "$listeners" | while read -r s p; do
    if [ "$all" = 1 ] || [ -f "$qmail/control/listen.$s" ]; then
      listener_body "$s" "$p" | service_dir "$p"
      log_run "$s" | write_file "$out/$p/log/run" 0755
    fi
  done
}

# The shell text as one systemd ExecStart: $ and % doubled, continued lines.
unit_exec() {
  printf "ExecStart=/bin/sh -c '"
  sed -e 's/\$/$$/g' -e 's/%/%%/g' | sed -e '$!s/$/ \\/' -e '1!s/^/  /' -e "\$s/\$/'/"
}

# Hardening for every unit. Not NoNewPrivileges, not a CapabilityBoundingSet
# without CAP_SYS_ADMIN (either would make the setuid qmail-queue useless:
# qmail-smtpd and qmail-local's forwards run it), not ProtectHome for the
# services that deliver or read mailboxes. docs/install.md explains each.
common_hardening() {
  cat <<'EOF'
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
RestrictRealtime=yes
EOF
}

unit_send() {
  cat <<EOF
# Generated by qmail-ng's mkservice.sh --systemd for $qmail.
# qmail-send and its helpers: qmail-start execs qmail-send, so the main
# process is qmail-send. See docs/install.md.
[Unit]
Description=qmail-ng qmail-send: the queue and its deliveries ($qmail)
Documentation=man:qmail-start(8) man:qmail-send(8) man:qmailctl(8)
After=network.target nss-lookup.target
PartOf=qmail.target
ConditionPathExists=$qmail/bin/qmail-start

[Service]
Type=simple
EOF
  send_body " qmail-logger $qmail/log/qmail-send" | unit_exec
  cat <<'EOF'
ExecReload=/bin/kill -HUP $MAINPID
# TERM to qmail-send alone: it finishes the deliveries under way, and its
# helpers and logger leave when their pipes close (as qmailctl stop).
KillMode=mixed
TimeoutStopSec=90
Restart=on-failure
RestartSec=5
RestartPreventExitStatus=100
# qmail-local writes Maildirs and mboxes in homes and runs the users'
# programs, which may forward through the setuid qmail-queue.
ProtectSystem=full
EOF
  common_hardening
  cat <<'EOF'

[Install]
WantedBy=qmail.target
EOF
}

unit_listener() {  # service program
  s=$1
  p=$2
  cat <<EOF
# Generated by qmail-ng's mkservice.sh --systemd for $qmail.
# The $s listener: qmailctl start's tcpserver command line (without -1),
# started when $qmail/control/listen.$s exists. tcpserver's lines go to
# the journal (journalctl -u $p). See docs/install.md.
[Unit]
Description=qmail-ng $p: the $s listener ($qmail)
Documentation=man:tcpserver(1) man:$p(8) man:qmailctl(8)
After=network-online.target nss-lookup.target qmail-send.service
Wants=network-online.target
PartOf=qmail.target
ConditionPathExists=$qmail/control/listen.$s

[Service]
Type=simple
EOF
  listener_body "$s" "$p" | unit_exec
  cat <<'EOF'
Restart=on-failure
RestartSec=5
RestartPreventExitStatus=100
PrivateTmp=yes
PrivateDevices=yes
EOF
  if [ "$s" = pop3 ]; then
    cat <<'EOF'
# qmail-checkpassword changes to the mailbox's owner (root may always do
# that) and qmail-pop3d works in that user's Maildir: no setuid program is
# run, so NoNewPrivileges holds; the homes stay writable.
NoNewPrivileges=yes
ProtectSystem=full
EOF
  else
    cat <<EOF
# The server queues through the setuid qmail-queue: no NoNewPrivileges.
# It reads nothing in homes and writes only the queue (and the pid file).
ProtectSystem=strict
ReadWritePaths=$qmail/queue $qmail/supervise
ProtectHome=yes
EOF
  fi
  common_hardening
  cat <<'EOF'

[Install]
WantedBy=qmail.target
EOF
}

unit_target() {
  wants="qmail-send.service"
  for p in qmail-smtpd qmail-pop3d qmail-qmtpd qmail-qmqpd; do wants="$wants $p.service"; done
  cat <<EOF
# Generated by qmail-ng's mkservice.sh --systemd for $qmail.
# Everything of the instance: qmail-send and each configured listener (a
# listener without control/listen.SERVICE is skipped by its condition).
[Unit]
Description=qmail-ng mail system ($qmail)
Documentation=man:qmailctl(8)
Wants=$wants
After=$wants

[Install]
WantedBy=multi-user.target
EOF
}

make_units() {
  mkdir -p "$out"
  unit_send | write_file "$out/qmail-send.service" 0644
  echo "$listeners" | while read -r s p; do
    unit_listener "$s" "$p" | write_file "$out/$p.service" 0644
  done
  unit_target | write_file "$out/qmail.target" 0644
}

case $mode in
  rundirs) make_rundirs ;;
  systemd) make_units ;;
esac
