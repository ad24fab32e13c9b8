# bench/bench.py: `make bench` (via bench/run.sh). qmail-ng beside Postfix,
# on 127.0.0.1 only, in the same run, both durable. See docs/bench.md.
#
# Cases: "smtp-maildir": BENCH_N messages of about 2 KB, one per connection,
# BENCH_C at a time, sent by Postfix's smtp-source to each server's SMTP
# listener, delivered to one user's Maildir. "smtp-remote": the same, to a
# remote domain both servers relay to one smtp-sink (BENCH_RC deliveries at
# once). Wall time from the first connection until all N messages arrived;
# CPU time of the server's process trees from /proc before and after.
# Servers alternate, BENCH_REPEAT runs each; median, min and max are printed
# and written to build/bench/results.json.
import json
import os
import pwd
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

N = int(os.environ.get("BENCH_N", "2000"))
C = int(os.environ.get("BENCH_C", "10"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
SIZE = 2048
USER = "qngtest"            # as tests/e2e/conftest.py, when run by root
TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BIN = os.path.abspath(os.environ.get("QNG_BIN", os.path.join(TOP, "build", "bin")))
OUT = os.path.join(TOP, "build", "bench")
SMTP_SOURCE = "/usr/sbin/smtp-source"
SMTP_SINK = "/usr/sbin/smtp-sink"
RC = int(os.environ.get("BENCH_RC", "100"))    # remote concurrency
STALL = 60                  # seconds without progress before a run fails
CASES = os.environ.get("BENCH_CASES", "smtp-maildir,smtp-remote").split(",")
POSTFIX = "/usr/sbin/postfix"
TICK = os.sysconf("SC_CLK_TCK")
ROOT = os.geteuid() == 0


def say(*a):
    print(*a, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_user():
    if not ROOT:
        pw = pwd.getpwuid(os.geteuid())
        return pw
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--user-group", "--home-dir", "/nonexistent",
                        "--no-create-home", "--shell", "/usr/sbin/nologin", USER], check=True)
        return pwd.getpwnam(USER)


def demote(pw):
    def fn():
        if os.geteuid() == 0:
            os.setgroups([])
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)
    return fn


def chown_tree(path, pw):
    if not ROOT:
        return
    for dirpath, dirs, files in os.walk(path):
        os.chown(dirpath, pw.pw_uid, pw.pw_gid)
        for f in files:
            os.chown(os.path.join(dirpath, f), pw.pw_uid, pw.pw_gid)


def make_maildir(path, pw):
    for sub in ("", "/tmp", "/new", "/cur"):
        os.makedirs(path + sub, exist_ok=True)
        os.chmod(path + sub, 0o700)
    chown_tree(path, pw)


def count_new(maildir):
    try:
        return len(os.listdir(os.path.join(maildir, "new")))
    except FileNotFoundError:
        return 0


def empty_maildir(maildir):
    for sub in ("new", "cur", "tmp"):
        d = os.path.join(maildir, sub)
        for f in os.listdir(d):
            os.unlink(os.path.join(d, f))


# CPU time of process trees: for each root pid and every live descendant,
# utime+stime+cutime+cstime from /proc/PID/stat. A child that exited was
# reaped by its parent (tcpserver, qmail-send, Postfix's master), whose
# cutime/cstime then holds it; a live one is counted by itself.
def proc_table():
    parent, cpu = {}, {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rfind(")") + 2:].split()
        # rest[0] = state (field 3); ppid field 4; utime..cstime fields 14..17
        parent[int(d)] = int(rest[1])
        cpu[int(d)] = sum(int(x) for x in rest[11:15])
    return parent, cpu


def tree_cpu(roots):
    parent, cpu = proc_table()
    children = {}
    for p, pp in parent.items():
        children.setdefault(pp, []).append(p)
    seen, todo, total = set(), [r for r in roots if r in cpu], 0
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        total += cpu[p]
        todo.extend(children.get(p, []))
    return total / TICK


class QmailNg:
    name = "qmail-ng"

    def __init__(self, tmp, pw, sink_port):
        self.pw = pw
        self.sink_port = sink_port
        self.root = os.path.join(tmp, "qng")
        os.makedirs(self.root)
        os.chmod(self.root, 0o755)
        # The programs, where the instance's user can read them.
        self.bin = os.path.join(tmp, "qng-bin")
        shutil.copytree(BIN, self.bin)
        os.chmod(tmp, 0o755)
        for dirpath, dirs, files in os.walk(self.bin):
            os.chmod(dirpath, 0o755)
            for f in files:
                os.chmod(os.path.join(dirpath, f), 0o755)
        chown_tree(self.root, pw)
        self.port = free_port()
        self.path = os.path.join(self.root, "inst")
        self.maildir = os.path.join(self.path, "home", "user", "Maildir")

    def env(self):
        return {"PATH": f"{self.path}/bin:/usr/bin:/bin", "QMAILHOME": self.path,
                "HOME": self.root, "LANG": "C"}

    def ctl(self, *args, timeout=120):
        r = subprocess.run([os.path.join(self.bin, "qmailctl"), *args], env=self.env(),
                           cwd=self.root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           preexec_fn=demote(self.pw), timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(f"qmailctl {' '.join(args)} exited {r.returncode}: "
                               + r.stdout.decode(errors="replace"))
        return r.stdout.decode(errors="replace")

    def start(self):
        self.ctl("init", self.path, "--me", "bench.test", "--smtp", f"127.0.0.1:{self.port}")
        home = os.path.join(self.path, "home", "user")
        make_maildir(os.path.join(home, "Maildir"), self.pw)
        os.chmod(home, 0o700)
        chown_tree(home, self.pw)
        pw = self.pw
        assign = os.path.join(self.path, "users", "assign")
        with open(assign, "w") as f:
            f.write(f"=user:{pw.pw_name}:{pw.pw_uid}:{pw.pw_gid}:{home}:::\n"
                    f"+user-:{pw.pw_name}:{pw.pw_uid}:{pw.pw_gid}:{home}:-::\n.\n")
        chown_tree(os.path.join(self.path, "users"), pw)
        # As Postfix below: no per-client limit (every connection comes from
        # 127.0.0.1; smtp-source may open the next one before tcpserver has
        # seen the last close) and up to 100 sessions at once.
        # Remote case: remote.test goes to the sink, RC deliveries at once.
        for name, value in (("concurrencyperip", "0"), ("concurrencyincoming", "100"),
                            ("concurrencyremote", str(RC)),
                            ("smtproutes", f"remote.test:[127.0.0.1]:{self.sink_port}")):
            with open(os.path.join(self.path, "control", name), "w") as f:
                f.write(value + "\n")
        chown_tree(os.path.join(self.path, "control"), pw)
        self.ctl("-d", self.path, "cdb")
        self.ctl("-d", self.path, "start")
        self.started = True

    def pids(self):
        out = []
        sup = os.path.join(self.path, "supervise")
        for f in os.listdir(sup):
            if f.endswith(".pid"):
                with open(os.path.join(sup, f)) as fh:
                    out.append(int(fh.read().split()[0]))
        return out

    def stop(self):
        if getattr(self, "started", False):
            try:
                self.ctl("-d", self.path, "stop")
            except Exception as e:
                say(f"bench: warning: stopping qmail-ng: {e}")


POSTFIX_MASTER_CF = """\
{port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


class Postfix:
    name = "Postfix"

    def __init__(self, tmp, pw, sink_port):
        self.pw = pw
        self.sink_port = sink_port
        self.root = os.path.join(tmp, "postfix")
        self.conf = os.path.join(self.root, "etc")
        self.queue = os.path.join(self.root, "spool")
        self.data = os.path.join(self.root, "data")
        self.mail = os.path.join(self.root, "mail")
        self.maildir = os.path.join(self.mail, "user", "Maildir")
        self.port = free_port()
        for d in (self.conf, self.queue, self.data, self.mail):
            os.makedirs(d)
        os.chmod(self.root, 0o755)
        os.chown(self.data, pwd.getpwnam("postfix").pw_uid, -1)

    def postfix(self, *args):
        r = subprocess.run([POSTFIX, "-c", self.conf, *args], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=120)
        if r.returncode != 0:
            # The postfix command logs its reason to syslog (or maillog_file).
            log = ""
            try:
                with open(os.path.join(self.root, "maillog"), errors="replace") as f:
                    log = "".join(f.readlines()[-5:])
            except OSError:
                pass
            raise RuntimeError(f"postfix {' '.join(args)} exited {r.returncode}: "
                               + r.stdout.decode(errors="replace") + log)

    def start(self):
        pw = self.pw
        make_maildir(self.maildir, pw)
        chown_tree(self.mail, pw)
        main = {
            "compatibility_level": "3.6",
            "config_directory": self.conf,
            "queue_directory": self.queue,
            "data_directory": self.data,
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "myhostname": "bench.test",
            "mydomain": "bench.test",
            "myorigin": "bench.test",
            "mydestination": "",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination",
            "virtual_mailbox_domains": "bench.test",
            "virtual_mailbox_base": self.mail,
            "virtual_mailbox_maps": "inline:{ user@bench.test=user/Maildir/ }",
            "virtual_uid_maps": f"static:{pw.pw_uid}",
            "virtual_gid_maps": f"static:{pw.pw_gid}",
            "virtual_minimum_uid": "1",
            "smtpd_banner": "$myhostname ESMTP",
            "biff": "no",
            "maillog_file": os.path.join(self.root, "maillog"),
            "maillog_file_prefixes": self.root,
            "alias_maps": "",
            "alias_database": "",
            "local_recipient_maps": "",
            "smtputf8_enable": "no",
            # Against a loaded machine: let one client IP make many connections.
            "smtpd_client_connection_count_limit": "0",
            "smtpd_client_connection_rate_limit": "0",
            "default_process_limit": str(max(100, RC)),
            # Remote case: remote.test relayed to the sink, RC at once.
            "transport_maps": f"inline:{{ remote.test=smtp:[127.0.0.1]:{self.sink_port} }}",
            "smtp_destination_concurrency_limit": str(RC),
        }
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            for k, v in main.items():
                f.write(f"{k} = {v}\n")
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write(POSTFIX_MASTER_CF.format(port=f"127.0.0.1:{self.port}"))
        self.postfix("start")
        self.started = True
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    if s.recv(100).startswith(b"220"):
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("Postfix's smtpd did not answer within 20 seconds")

    def pids(self):
        with open(os.path.join(self.queue, "pid", "master.pid")) as f:
            return [int(f.read().split()[0])]

    def stop(self):
        if getattr(self, "started", False):
            try:
                self.postfix("stop")
            except Exception as e:
                say(f"bench: warning: stopping Postfix: {e}")


class Sink:
    """Postfix's smtp-sink on 127.0.0.1: one file per message in dir."""

    def __init__(self, tmp, pw):
        self.dir = os.path.join(tmp, "sink")
        os.makedirs(self.dir)
        self.user = pwd.getpwnam("postfix") if ROOT else pw
        os.chown(self.dir, self.user.pw_uid, -1) if ROOT else None
        self.port = free_port()
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([SMTP_SINK, "-u", self.user.pw_name, "-h", "sink.test",
                                      "-d", os.path.join(self.dir, "m."),
                                      f"127.0.0.1:{self.port}", "1000"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("smtp-sink did not listen within 10 seconds")

    def count(self):
        return len(os.listdir(self.dir))

    def empty(self):
        for f in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, f))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def one_run(server, case, sink):
    if case == "smtp-maildir":
        empty_maildir(server.maildir)
        rcpt, count = "user@bench.test", lambda: count_new(server.maildir)
    else:
        sink.empty()
        rcpt, count = "user@remote.test", sink.count
    cpu0 = tree_cpu(server.pids())
    t0 = time.monotonic()
    src = subprocess.run([SMTP_SOURCE, "-c", "-l", str(SIZE), "-m", str(N), "-s", str(C),
                          "-f", "sender@bench.test", "-t", rcpt,
                          f"127.0.0.1:{server.port}"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         timeout=600)
    if src.returncode != 0:
        raise RuntimeError(f"smtp-source to {server.name} exited {src.returncode}: "
                           + src.stderr.decode(errors="replace"))
    accepted = time.monotonic() - t0
    # Bounded wait: give up when nothing more arrived for STALL seconds.
    last, last_t = -1, time.monotonic()
    while (n := count()) < N:
        now = time.monotonic()
        if n != last:
            last, last_t = n, now
        elif now - last_t > STALL:
            raise RuntimeError(f"{server.name}: {case}: only {n} of {N} messages "
                               f"arrived; none more in {STALL} seconds")
        time.sleep(0.01)
    wall = time.monotonic() - t0
    cpu = tree_cpu(server.pids()) - cpu0
    return {"wall_s": wall, "accept_s": accepted, "msg_per_s": N / wall, "cpu_ms_per_msg": 1000 * cpu / N}


def summary(runs, key):
    v = [r[key] for r in runs]
    return {"median": statistics.median(v), "min": min(v), "max": max(v)}


def fmt(s, prec):
    return f"{s['median']:.{prec}f} ({s['min']:.{prec}f}..{s['max']:.{prec}f})"


def run_case(case, servers, sink):
    what = ("Maildir of user@bench.test" if case == "smtp-maildir" else
            f"user@remote.test, relayed to smtp-sink, remote concurrency {RC}")
    say(f"bench: {case}: {N} messages of {SIZE} bytes, one per connection, "
        f"concurrency {C}, to {what}; {REPEAT} runs each, servers alternating")
    runs = {s.name: [] for s in servers}
    for i in range(REPEAT):
        for s in servers:
            r = one_run(s, case, sink)
            runs[s.name].append(r)
            say(f"  run {i + 1} {s.name:9} {r['wall_s']:8.2f} s "
                f"(all accepted after {r['accept_s']:.2f} s) "
                f"{r['msg_per_s']:8.1f} msg/s {r['cpu_ms_per_msg']:7.2f} ms CPU/msg")
    res = {"case": case, "n": N, "concurrency": C, "size": SIZE, "repeat": REPEAT,
           "servers": {}}
    if case == "smtp-remote":
        res["remote_concurrency"] = RC
    for name, rs in runs.items():
        res["servers"][name] = {"runs": rs,
                                **{k: summary(rs, k) for k in
                                   ("wall_s", "accept_s", "msg_per_s", "cpu_ms_per_msg")}}
    say("")
    say(f"case {case}: median (min..max)")
    say(f"{'server':10} {'wall s':>22} {'accepted s':>22} {'msg/s':>24} "
        f"{'CPU ms/msg':>22}")
    for name, r in res["servers"].items():
        say(f"{name:10} {fmt(r['wall_s'], 2):>22} {fmt(r['accept_s'], 2):>22} "
            f"{fmt(r['msg_per_s'], 1):>24} {fmt(r['cpu_ms_per_msg'], 2):>22}")
    if "Postfix" in res["servers"]:
        q, p = res["servers"]["qmail-ng"], res["servers"]["Postfix"]
        rate = q["msg_per_s"]["median"] / p["msg_per_s"]["median"]
        cpu = (q["cpu_ms_per_msg"]["median"] / p["cpu_ms_per_msg"]["median"]
               if p["cpu_ms_per_msg"]["median"] > 0 else None)
        res["ratio_qmail_ng_over_postfix"] = {"msg_per_s": rate, "cpu_ms_per_msg": cpu}
        say(f"qmail-ng/Postfix: msg/s {rate:.2f}"
            + (f", CPU per message {cpu:.2f}" if cpu is not None else ""))
    say("")
    return res


def main():
    for p in (SMTP_SOURCE, SMTP_SINK, os.path.join(BIN, "qmailctl")):
        if not os.access(p, os.X_OK):
            say(f"bench: fatal: {p} is missing" +
                (" (run make build first)" if p.endswith("qmailctl") else
                 " (install Postfix, which has smtp-source and smtp-sink)"))
            return 111
    for c in CASES:
        if c not in ("smtp-maildir", "smtp-remote"):
            say(f"bench: fatal: unknown case {c} in BENCH_CASES")
            return 111
    pw = bench_user()
    tmp = tempfile.mkdtemp(prefix="qng-bench-", dir="/tmp")
    servers, sink = [], None

    def interrupted(sig, frame):
        raise KeyboardInterrupt
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, interrupted)
    try:
        sink = Sink(tmp, pw)
        servers.append(QmailNg(tmp, pw, sink.port))
        if ROOT and os.access(POSTFIX, os.X_OK):
            servers.append(Postfix(tmp, pw, sink.port))
        elif not ROOT:
            say("bench: Postfix cannot be measured: starting it needs root; "
                "showing qmail-ng alone.")
        else:
            say(f"bench: Postfix cannot be measured: {POSTFIX} is missing; "
                "showing qmail-ng alone.")
        if "smtp-remote" in CASES and not ROOT:
            # smtp-sink always changes its user (initgroups), which needs root.
            say("bench: smtp-remote skipped: smtp-sink needs root.")
            cases = [c for c in CASES if c != "smtp-remote"]
        else:
            cases = CASES
        if "smtp-remote" in cases:
            sink.start()
        for s in servers:
            s.start()
        results = [run_case(c, servers, sink) for c in cases]
        os.makedirs(OUT, exist_ok=True)
        with open(os.path.join(OUT, "results.json"), "w") as f:
            json.dump({"cases": results}, f, indent=2)
            f.write("\n")
        say(f"results: {os.path.join(OUT, 'results.json')}")
        return 0
    except KeyboardInterrupt:
        say("bench: interrupted")
        return 111
    except Exception as e:
        say(f"bench: fatal: {e}")
        return 111
    finally:
        for s in servers:
            s.stop()
        if sink:
            sink.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
