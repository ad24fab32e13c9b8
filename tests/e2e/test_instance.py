# test_instance.py: qmailctl init/stat/cdb/start/stop on a real unprivileged
# instance, and qmail-logger's log directory.
import os
import re
import stat
import subprocess
import time

import pytest

from conftest import free_port

SOURCE = os.environ.get("QNG_SOURCE") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))

SPLIT = 23
STAMP = re.compile(rb"@4000000[0-9a-f]{17} ")


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def programs(qng_bin):
    return sorted(n for n in os.listdir(qng_bin) if os.path.isfile(os.path.join(qng_bin, n)))


# (path, kind, mode): every directory and special file init makes.
LAYOUT = [
    ("", "d", 0o755), ("bin", "d", 0o755), ("control", "d", 0o755), ("users", "d", 0o755),
    ("alias", "d", 0o2755), ("alias/Maildir", "d", 0o700), ("alias/Maildir/tmp", "d", 0o700),
    ("alias/Maildir/new", "d", 0o700), ("alias/Maildir/cur", "d", 0o700),
    ("home", "d", 0o755), ("log", "d", 0o755), ("log/qmail-send", "d", 0o755),
    ("supervise", "d", 0o755),
    ("queue", "d", 0o750), ("queue/pid", "d", 0o700), ("queue/intd", "d", 0o700),
    ("queue/todo", "d", 0o750), ("queue/bounce", "d", 0o700),
    ("queue/mess", "d", 0o750), ("queue/info", "d", 0o700), ("queue/local", "d", 0o700),
    ("queue/remote", "d", 0o700), ("queue/lock", "d", 0o750),
    ("queue/lock/tcpto", "f", 0o644), ("queue/lock/sendmutex", "f", 0o600),
    ("queue/lock/trigger", "p", 0o622),
]
SPLIT_MODES = {"mess": 0o750, "info": 0o700, "local": 0o700, "remote": 0o700}


def test_init_makes_the_layout(instance, qng_bin, test_user):
    p = instance.path
    for rel, kind, want in LAYOUT:
        full = os.path.join(p, rel)
        st = os.lstat(full)
        check = {"d": stat.S_ISDIR, "f": stat.S_ISREG, "p": stat.S_ISFIFO}[kind]
        assert check(st.st_mode), rel
        assert stat.S_IMODE(st.st_mode) == want, f"{rel}: {oct(stat.S_IMODE(st.st_mode))}"
        assert st.st_uid == test_user.uid, rel
    for d, want in SPLIT_MODES.items():
        subs = sorted(os.listdir(os.path.join(p, "queue", d)), key=int)
        assert subs == [str(i) for i in range(SPLIT)], d
        for s in subs:
            assert mode(os.path.join(p, "queue", d, s)) == want
    assert sorted(os.listdir(os.path.join(p, "queue", "lock"))) == ["sendmutex", "tcpto", "trigger"]
    for d in ("pid", "intd", "todo", "bounce"):
        assert os.listdir(os.path.join(p, "queue", d)) == []
    assert instance.read("queue/lock/tcpto") == b"\0" * 1024
    assert instance.read("queue/lock/sendmutex") == b""
    assert sorted(os.listdir(p)) == ["alias", "bin", "control", "home", "log", "queue",
                                     "supervise", "users"]


def test_init_writes_control_files(instance):
    want = {
        "me": b"example.test\n",
        "defaultdomain": b"example.test\n",
        "plusdomain": b"example.test\n",
        "locals": b"example.test\nlocalhost\n",
        "rcpthosts": b"example.test\nlocalhost\n",
        "defaultdelivery": b"./Maildir/\n",
        "rcptcheck": b"1\n",
        "bounceformat": b"dsn\n",
        "tcp.smtp": b'127.:allow,RELAYCLIENT=""\n:allow\n',
        "tcp.pop3": b":allow\n",
        "tcp.qmtp": b'127.:allow,RELAYCLIENT=""\n:allow\n',
        "tcp.qmqp": b"127.:allow\n:deny\n",
    }
    for name, text in want.items():
        assert instance.read("control/" + name) == text, name
        assert mode(os.path.join(instance.path, "control", name)) == 0o644, name
    # No listener named: none configured.
    assert not [n for n in os.listdir(os.path.join(instance.path, "control"))
                if n.startswith("listen.")]
    assert instance.read("users/assign") == b".\n"
    # users/cdb compiled from it: only the "" record of no wildcard characters.
    assert cdb_dump(os.path.join(instance.path, "users/cdb")) == [(b"", b"")]
    for name in (".qmail-postmaster", ".qmail-mailer-daemon", ".qmail-root"):
        assert instance.read("alias/" + name) == b"./Maildir/\n", name
        assert mode(os.path.join(instance.path, "alias", name)) == 0o644


def test_init_copies_every_program(instance, qng_bin):
    bindir = os.path.join(instance.path, "bin")
    assert sorted(os.listdir(bindir)) == programs(qng_bin)
    for name in programs(qng_bin):
        assert mode(os.path.join(bindir, name)) == 0o755, name
        assert os.path.getsize(os.path.join(bindir, name)) == \
            os.path.getsize(os.path.join(qng_bin, name)), name
    with open(os.path.join(bindir, "qmailctl"), "rb") as a, \
            open(os.path.join(qng_bin, "qmailctl"), "rb") as b:
        assert a.read() == b.read()
    # The copy runs and names its own instance.
    r = instance.run(["qmailctl", "--help"])
    assert r.returncode == 0 and b"usage: qmailctl" in r.stdout


def test_init_me_and_listeners(make_instance):
    inst = make_instance(me="mail.example.com",
                         args=["--smtp", "127.0.0.1:2525", "--pop3", "[::1]:2110"])
    assert inst.read("control/me") == b"mail.example.com\n"
    assert inst.read("control/defaultdomain") == b"example.com\n"
    assert inst.read("control/plusdomain") == b"example.com\n"
    assert inst.read("control/locals") == b"mail.example.com\nlocalhost\n"
    assert inst.read("control/listen.smtp") == b"127.0.0.1:2525\n"
    assert inst.read("control/listen.pop3") == b"[::1]:2110\n"
    assert not os.path.exists(os.path.join(inst.path, "control/listen.qmtp"))
    r = inst.ctl("stat")
    lines = r.stdout.decode().splitlines()
    assert "qmail-smtpd: down" in lines and "qmail-pop3d: down" in lines
    assert not any(l.startswith("qmail-qmtpd") for l in lines)


def test_init_localhost_once(make_instance):
    inst = make_instance(me="localhost")
    assert inst.read("control/locals") == b"localhost\n"
    assert inst.read("control/rcpthosts") == b"localhost\n"


def _init(inst_like, qng_bin, path, *args):
    return inst_like.run([os.path.join(qng_bin, "qmailctl"), "init", path, *args],
                         cwd=inst_like.root)


def test_init_refuses_nonempty_dir(instance, qng_bin):
    d = os.path.join(instance.root, "busy")
    os.mkdir(d)
    instance.chown(d)
    instance.write("../busy/keep", "precious\n")
    r = _init(instance, qng_bin, d, "--me", "x.test")
    assert r.returncode == 100, r.stderr
    assert b"not empty" in r.stderr
    assert os.listdir(d) == ["keep"]
    # An existing instance is non-empty too.
    r = _init(instance, qng_bin, instance.path, "--me", "x.test")
    assert r.returncode == 100
    assert instance.read("control/me") == b"example.test\n"
    # A file is not a directory.
    r = _init(instance, qng_bin, os.path.join(d, "keep"), "--me", "x.test")
    assert r.returncode == 100


def test_init_accepts_empty_dir(instance, qng_bin):
    d = os.path.join(instance.root, "empty")
    os.mkdir(d)
    instance.chown(d)
    r = _init(instance, qng_bin, d, "--me", "x.test")
    assert r.returncode == 0, r.stderr
    assert open(os.path.join(d, "control/me"), "rb").read() == b"x.test\n"
    assert mode(d) == 0o755


def test_init_usage_errors(instance, qng_bin):
    for args in (["--smtp", "nonsense"], ["--me", "bad name"], ["--frob"]):
        r = _init(instance, qng_bin, os.path.join(instance.root, "u"), *args)
        assert r.returncode == 100, args
        assert b"usage: qmailctl" in r.stderr
        assert not os.path.exists(os.path.join(instance.root, "u"))
    r = instance.run([os.path.join(qng_bin, "qmailctl"), "frobnicate"])
    assert r.returncode == 100 and b"unknown command" in r.stderr
    r = instance.run([os.path.join(qng_bin, "qmailctl"), "--help"])
    assert r.returncode == 0 and r.stdout.startswith(b"usage: qmailctl")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to check that root is refused")
def test_init_refuses_root(qng_bin, tmp_path):
    d = tmp_path / "inst"
    r = subprocess.run([os.path.join(qng_bin, "qmailctl"), "init", str(d), "--me", "x.test"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert r.returncode == 100
    assert b"root" in r.stderr and b"--system" in r.stderr
    assert not d.exists()


def test_stat_fresh(instance):
    r = instance.ctl("stat")
    assert r.stdout == (b"qmail-send: down\n"
                        b"messages in queue: 0\n"
                        b"messages in queue but not yet preprocessed: 0\n")


def test_stat_counts_queue_files(instance):
    # qmail-qstat counts files, whatever they hold.
    instance.write("queue/mess/3/3", "x")
    instance.write("queue/mess/7/30", "x")
    instance.write("queue/todo/30", "x")
    r = instance.ctl("stat")
    assert b"messages in queue: 2\n" in r.stdout
    assert b"messages in queue but not yet preprocessed: 1\n" in r.stdout


def test_qmailhome_is_the_default(instance, qng_bin):
    r = instance.run([os.path.join(qng_bin, "qmailctl"), "stat"])  # env has QMAILHOME
    assert r.returncode == 0 and b"qmail-send: down" in r.stdout
    r = instance.run([os.path.join(qng_bin, "qmailctl"), "-d", instance.root + "/nope", "stat"])
    assert r.returncode != 0


def test_init_compiles_everything(instance):
    """init leaves every compiled file in place, as qmailctl cdb makes it."""
    c = os.path.join(instance.path, "control")
    assert cdb_dump(os.path.join(c, "tcp.smtp.cdb")) == [(b"127.", b"+RELAYCLIENT=\0"),
                                                        (b"", b"")]
    assert cdb_dump(os.path.join(c, "tcp.qmtp.cdb")) == [(b"127.", b"+RELAYCLIENT=\0"),
                                                        (b"", b"")]
    assert cdb_dump(os.path.join(c, "tcp.pop3.cdb")) == [(b"", b"")]
    assert cdb_dump(os.path.join(c, "tcp.qmqp.cdb")) == [(b"127.", b""), (b"", b"D\0")]
    for name in ("tcp.smtp", "tcp.pop3", "tcp.qmtp", "tcp.qmqp"):
        assert mode(os.path.join(c, name + ".cdb")) == 0o644
        assert not os.path.exists(os.path.join(c, name + ".tmp"))
    # The recipients database: the alias user's addresses exist.
    recs = dict(cdb_dump(os.path.join(instance.path, "users/recipients.cdb")))
    assert recs[b"@example.test"] == b"DL"
    assert recs[b"postmaster@example.test"] == b"E+"
    assert not os.path.exists(os.path.join(c, "morercpthosts.cdb"))


def test_cdb_rebuilds_rules_and_recipients(instance):
    instance.add_user("zed")
    recs = dict(cdb_dump(os.path.join(instance.path, "users/recipients.cdb")))
    assert recs[b"zed@example.test"] == b"E+"
    instance.write("control/tcp.pop3", "10.1.:deny\n=friend.test:allow,X=\"y\"\n:allow,!Y\n")
    r = instance.ctl("cdb")
    assert r.stdout == b"" and r.stderr == b""
    assert cdb_dump(os.path.join(instance.path, "control/tcp.pop3.cdb")) == [
        (b"10.1.", b"D\0"), (b"=friend.test", b"+X=y\0"), (b"", b"-Y\0")]
    # One bad source: reported, its old cdb kept, the others still built.
    instance.write("control/tcp.pop3", "10.1.:bogus\n")
    instance.write("control/morercpthosts", "more.test\n")
    r = instance.ctl("cdb", check=False)
    assert r.returncode == 100
    assert b"tcp.pop3" in r.stderr and b"10.1.:bogus" in r.stderr
    assert cdb_dump(os.path.join(instance.path, "control/tcp.pop3.cdb"))[0] == (b"10.1.", b"D\0")
    assert cdb_dump(os.path.join(instance.path, "control/morercpthosts.cdb")) == [
        (b"more.test", b"")]
    # A source that is gone leaves its cdb alone (tcpserver still reads it).
    os.unlink(os.path.join(instance.path, "control/tcp.qmqp"))
    instance.write("control/tcp.pop3", ":allow\n")
    instance.ctl("cdb")
    assert os.path.exists(os.path.join(instance.path, "control/tcp.qmqp.cdb"))
    r = instance.run([os.path.join(instance.bin, "qmailctl"), "-d",
                      os.path.join(instance.root, "nothing"), "cdb"])
    assert r.returncode == 100


def cdb_dump(path):
    """Every record of a cdb, via tinycdb's cdb -d (+klen,dlen:key->data)."""
    out = subprocess.run(["/usr/bin/cdb", "-d", path], check=True,
                         stdout=subprocess.PIPE).stdout
    recs, i = [], 0
    while i < len(out) and out[i:i + 1] == b"+":
        m = re.match(rb"\+(\d+),(\d+):", out[i:])
        kl, dl = int(m.group(1)), int(m.group(2))
        j = i + m.end()
        key = out[j:j + kl]
        assert out[j + kl:j + kl + 2] == b"->"
        data = out[j + kl + 2:j + kl + 2 + dl]
        recs.append((key, data))
        i = j + kl + 2 + dl + 1
    return recs


def have_assign_compiler():
    return os.path.exists(os.path.join(SOURCE, "src/lib/assign.h"))


def test_cdb_builds_users_cdb(instance, test_user):
    if not have_assign_compiler():
        pytest.skip("users/assign compiler (src/lib/assign.h) not written yet")
    u = test_user
    home = os.path.join(instance.path, "home", "joe")
    instance.write("users/assign",
                   f"=Joe:{u.name}:{u.uid}:{u.gid}:{home}:::\n"
                   f"+joe-:{u.name}:{u.uid}:{u.gid}:{home}:-::\n.\n")
    instance.ctl("cdb")
    cdb = os.path.join(instance.path, "users", "cdb")
    assert mode(cdb) == 0o644
    user = f"{u.name}\0{u.uid}\0{u.gid}\0{home}".encode()
    # qmail-newu's keys: "!" + lowercased local + NUL for =, "!" + prefix for
    # +, and "" listing the wildcard characters.
    assert cdb_dump(cdb) == [
        (b"!joe\0", user + b"\0\0"),
        (b"!joe-", user + b"\0-\0"),
        (b"", b"-"),
    ]
    q = subprocess.run(["/usr/bin/cdb", "-q", cdb, "!joe-"], stdout=subprocess.PIPE)
    assert q.returncode == 0 and q.stdout == user + b"\0-\0"
    assert not os.path.exists(cdb + ".tmp")


def test_cdb_bad_assign_keeps_old_cdb(instance, test_user):
    if not have_assign_compiler():
        pytest.skip("users/assign compiler (src/lib/assign.h) not written yet")
    instance.add_user("amy")
    cdb = os.path.join(instance.path, "users", "cdb")
    before = open(cdb, "rb").read()
    instance.write("users/assign", "=broken\n.\n")
    r = instance.ctl("cdb", check=False)
    assert r.returncode in (100, 111)
    assert open(cdb, "rb").read() == before


def test_cdb_morercpthosts(instance):
    instance.ctl("cdb")
    assert not os.path.exists(os.path.join(instance.path, "control/morercpthosts.cdb"))
    instance.write("control/morercpthosts", "Example.COM \n# comment\n\n.Sub.Example\t\n")
    r = instance.ctl("cdb")
    assert r.stdout == b"" and r.stderr == b""
    cdb = os.path.join(instance.path, "control/morercpthosts.cdb")
    assert cdb_dump(cdb) == [(b"example.com", b""), (b".sub.example", b"")]
    # qmail-newmrh makes the same file: the keys are one library function.
    by_ctl = open(cdb, "rb").read()
    os.unlink(cdb)
    r = instance.run(["qmail-newmrh"])
    assert r.returncode == 0, r.stderr
    assert open(cdb, "rb").read() == by_ctl
    assert mode(cdb) == 0o644
    q = subprocess.run(["/usr/bin/cdb", "-q", cdb, "example.com"], stdout=subprocess.PIPE)
    assert q.returncode == 0 and q.stdout == b""
    q = subprocess.run(["/usr/bin/cdb", "-q", cdb, "Example.COM"], stdout=subprocess.PIPE)
    assert q.returncode != 0


def test_start_fails_cleanly_without_qmail_start(instance):
    os.unlink(os.path.join(instance.path, "bin", "qmail-start")) \
        if os.path.exists(os.path.join(instance.path, "bin", "qmail-start")) else None
    t = time.time()
    r = instance.ctl("start", check=False, timeout=30)
    assert r.returncode == 111, r.stderr
    assert time.time() - t < 15
    assert b"qmail-send" in r.stderr
    assert not os.path.exists(os.path.join(instance.path, "supervise/qmail-send.pid"))
    assert b"unable to run qmail-start" in instance.read("log/qmailctl.log")
    assert instance.ctl("stat").stdout.startswith(b"qmail-send: down\n")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to check that root is refused")
def test_root_does_not_start_an_unprivileged_instance(instance, qng_bin):
    r = subprocess.run([os.path.join(qng_bin, "qmailctl"), "-d", instance.path, "start"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert r.returncode == 100
    assert b"belongs to uid" in r.stderr
    assert not os.path.exists(os.path.join(instance.path, "supervise/qmail-send.pid"))


def test_stop_and_signals_when_stopped(instance):
    r = instance.ctl("stop")
    assert r.stdout == b"qmail-send: not running\n"
    for cmd in ("doqueue", "reload"):
        r = instance.ctl(cmd, check=False)
        assert r.returncode == 111 and b"not running" in r.stderr
    # A stale pid file naming a process that is not qmail-send is ignored.
    instance.write("supervise/qmail-send.pid", f"{os.getpid()}\n")
    assert instance.ctl("stat").stdout.startswith(b"qmail-send: down\n")
    assert instance.ctl("stop").stdout == b"qmail-send: not running\n"
    assert not os.path.exists(os.path.join(instance.path, "supervise/qmail-send.pid"))


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def session_members(sid):
    out = []
    for n in os.listdir("/proc"):
        if not n.isdigit():
            continue
        try:
            with open(f"/proc/{n}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if fields[0] not in ("Z", "X") and int(fields[3]) == sid:
            out.append(int(n))
    return out


def test_start_stop_round_trip(instance):
    if not os.path.exists(os.path.join(SOURCE, "src/bin/qmail-send/CMakeLists.txt")):
        pytest.skip("qmail-send is not written yet (src/bin/qmail-send missing)")
    r = instance.ctl("start", timeout=30)
    m = re.fullmatch(rb"qmail-send: started \(pid (\d+)\)\n", r.stdout)
    assert m, r.stdout
    pid = int(m.group(1))
    try:
        assert instance.read("supervise/qmail-send.pid") == b"%d\n" % pid
        assert pid_alive(pid)
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            assert os.path.basename(f.read().split(b"\0")[0]) == b"qmail-send"
        # qmail-send holds the send mutex: nobody else may take it.
        import fcntl
        with open(os.path.join(instance.path, "queue/lock/sendmutex"), "rb") as f:
            with pytest.raises(BlockingIOError):
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        r = instance.ctl("stat")
        lines = r.stdout.decode().splitlines()
        assert re.fullmatch(rf"qmail-send: up \(pid {pid}\) \d+ seconds", lines[0]), lines
        assert lines[1:] == ["messages in queue: 0",
                             "messages in queue but not yet preprocessed: 0"]
        r = instance.ctl("start")
        assert r.stdout == b"qmail-send: already running (pid %d)\n" % pid
        for cmd in ("doqueue", "reload"):
            instance.ctl(cmd)
        time.sleep(0.2)
        assert pid_alive(pid)
        # The logger writes qmail-send's lines, stamped, into log/qmail-send.
        assert os.path.exists(os.path.join(instance.path, "log/qmail-send/current"))
    finally:
        r = instance.ctl("stop", timeout=90)
    assert r.stdout == b"qmail-send: stopped\n"
    assert not pid_alive(pid)
    assert session_members(pid) == []  # the spawns, qmail-clean and the logger too
    assert not os.path.exists(os.path.join(instance.path, "supervise/qmail-send.pid"))
    assert instance.ctl("stat").stdout.startswith(b"qmail-send: down\n")
    for line in instance.read("log/qmail-send/current").splitlines():
        assert STAMP.match(line), line
    # restart from stopped starts it again.
    r = instance.ctl("restart", timeout=90)
    assert b"qmail-send: started (pid " in r.stdout
    assert instance.ctl("stop", timeout=90).stdout == b"qmail-send: stopped\n"


def test_queue_command(instance):
    for prog in ("qmail-qstat", "qmail-qread"):
        if not os.path.exists(os.path.join(instance.path, "bin", prog)):
            pytest.skip(f"{prog} is not built")
    r = instance.ctl("queue")
    assert r.stdout.startswith(b"messages in queue: 0\n"
                               b"messages in queue but not yet preprocessed: 0\n")


# qmail-logger

def run_logger(instance, logdir, data):
    return instance.run(["qmail-logger", logdir], input=data)


def test_logger_stamps_lines(instance):
    logdir = os.path.join(instance.root, "log1")
    r = run_logger(instance, logdir, b"one\ntwo\n\nlast without newline")
    assert r.returncode == 0, r.stderr
    assert mode(logdir) == 0o755
    cur = os.path.join(logdir, "current")
    assert mode(cur) == 0o644
    lines = open(cur, "rb").read().split(b"\n")
    assert lines[-1] == b""
    lines = lines[:-1]
    assert [l[26:] for l in lines] == [b"one", b"two", b"", b"last without newline"]
    now = time.time()
    for l in lines:
        assert STAMP.match(l), l
        secs = int(l[1:17], 16) - (1 << 62) - 10
        assert abs(secs - now) < 60
        assert int(l[17:25], 16) < 10**9
    # Appends on the next run.
    run_logger(instance, logdir, b"again\n")
    assert open(cur, "rb").read().count(b"\n") == 5


def test_logger_splits_long_lines(instance):
    logdir = os.path.join(instance.root, "log2")
    r = run_logger(instance, logdir, b"x" * 8192 + b"y" * 10 + b"\n")
    assert r.returncode == 0
    lines = open(os.path.join(logdir, "current"), "rb").read().splitlines()
    assert [l[26:] for l in lines] == [b"x" * 8192, b"y" * 10]


def test_logger_rotates_and_keeps_ten(instance):
    logdir = os.path.join(instance.root, "log3")
    line = b"z" * 1000 + b"\n"
    # 12.5 MiB in 1 MiB-ish files: 12 rotations, 10 kept.
    data = line * (12 * 1049 + 500)
    r = run_logger(instance, logdir, data)
    assert r.returncode == 0, r.stderr
    names = sorted(os.listdir(logdir))
    old = [n for n in names if n.endswith(".s")]
    assert len(old) == 10, names
    assert set(names) == set(old) | {"current", "lock"}
    for n in old:
        assert re.fullmatch(r"@4000000[0-9a-f]{17}\.s", n)
        size = os.path.getsize(os.path.join(logdir, n))
        assert 1 << 20 < size < (1 << 20) + 70000, (n, size)
    assert os.path.getsize(os.path.join(logdir, "current")) < (1 << 20)
    total = sum(os.path.getsize(os.path.join(logdir, n)) for n in old + ["current"])
    assert total % (26 + len(line)) == 0


def test_logger_usage(instance):
    r = instance.run(["qmail-logger"])
    assert r.returncode == 100
    r = instance.run(["qmail-logger", "--help"])
    assert r.returncode == 0 and b"usage: qmail-logger" in r.stdout
