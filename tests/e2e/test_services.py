# test_services.py: qmailctl start/stop/stat with listeners, on a real
# unprivileged instance: mail in through tcpserver, qmail-smtpd, qmail-queue,
# qmail-send and qmail-local into a Maildir, out again through qmail-popup,
# qmail-checkpassword and qmail-pop3d; the tcp rules qmailctl cdb compiles;
# qmailctl passwd and dkim-keygen; a port taken by someone else; and
# scripts/run-demo.sh (make run) on a temporary directory.
import os
import poplib
import pwd
import re
import shutil
import smtplib
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import Instance, free_port

SOURCE = os.environ.get("QNG_SOURCE") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))

# Every program the listeners run must exist: a missing one is a failure
# here, never a skip.
LISTENER_PROGRAMS = ["tcpserver", "qmail-logger", "qmail-smtpd", "qmail-popup",
                     "qmail-checkpassword", "qmail-pop3d", "qmail-qmtpd", "qmail-qmqpd"]


def test_listener_programs_are_built(qng_bin):
    missing = [p for p in LISTENER_PROGRAMS if not os.path.isfile(os.path.join(qng_bin, p))]
    assert missing == [], f"not built: {missing}"


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def proc_name(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return os.path.basename(f.read().split(b"\0")[0]).decode()


def proc_uid(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])
    raise AssertionError(f"no Uid line for {pid}")


def accepts(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=5):
            return True
    except OSError:
        return False


def port_free(port):
    """Whether a listener could bind the port now. SO_REUSEADDR, as
    tcpserver binds: connections in TIME_WAIT do not count."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            s.listen()
            return True
        except OSError:
            return False


def greeting(port):
    """The first bytes the server sends, or b"" when it closes at once."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.settimeout(10)
        try:
            return s.recv(4096)
        except ConnectionResetError:
            return b""


def settle(maildir_new):
    """qmail-pop3d leaves mail delivered in the current second for the next
    session (as qmail's): wait, at most a second, until that has passed."""
    newest = max(os.stat(os.path.join(maildir_new, n)).st_mtime
                 for n in os.listdir(maildir_new))
    while time.time() < int(newest) + 1.05:
        time.sleep(0.05)


def started(stdout):
    """{program: pid} from start's "NAME: started (pid N)..." lines."""
    return {m.group(1).decode(): int(m.group(2))
            for m in re.finditer(rb"^(\S+): started \(pid (\d+)\)", stdout, re.M)}


def stat_lines(inst):
    return inst.ctl("stat").stdout.decode().splitlines()


@pytest.fixture
def mailhost(make_instance):
    """An instance with SMTP and POP3 on free loopback ports, user amy."""
    smtp, pop3 = free_port(), free_port()
    while pop3 == smtp:
        pop3 = free_port()
    inst = make_instance(args=["--smtp", f"127.0.0.1:{smtp}", "--pop3", f"127.0.0.1:{pop3}"])
    inst.smtp_port, inst.pop3_port = smtp, pop3
    inst.amy = inst.add_user("amy")  # runs qmailctl cdb: users/recipients.cdb too
    return inst


def test_start_stat_stop(mailhost):
    inst = mailhost
    t = time.time()
    r = inst.ctl("start", timeout=60)
    assert time.time() - t < 30
    lines = r.stdout.decode().splitlines()
    assert re.fullmatch(r"qmail-send: started \(pid \d+\)", lines[0]), lines
    assert re.fullmatch(rf"qmail-smtpd: started \(pid \d+\) on 127.0.0.1:{inst.smtp_port}",
                        lines[1]), lines
    assert re.fullmatch(rf"qmail-pop3d: started \(pid \d+\) on 127.0.0.1:{inst.pop3_port}",
                        lines[2]), lines
    pids = started(r.stdout)
    # start returned: both accept connections now, no waiting.
    assert accepts(inst.smtp_port) and accepts(inst.pop3_port)
    assert greeting(inst.smtp_port).startswith(b"220 example.test ESMTP")
    assert greeting(inst.pop3_port).startswith(b"+OK ")
    for prog, svc in (("qmail-smtpd", "smtp"), ("qmail-pop3d", "pop3")):
        pid = pids[prog]
        assert inst.read(f"supervise/{svc}.pid") == b"%d\n" % pid
        assert proc_name(pid) == "tcpserver"
        assert os.getsid(pid) == pid  # detached in a session of its own
    # stat: one line per service, with pid and seconds.
    lines = stat_lines(inst)
    assert re.fullmatch(rf"qmail-send: up \(pid {pids['qmail-send']}\) \d+ seconds", lines[0])
    assert re.fullmatch(rf"qmail-smtpd: up \(pid {pids['qmail-smtpd']}\) \d+ seconds", lines[1])
    assert re.fullmatch(rf"qmail-pop3d: up \(pid {pids['qmail-pop3d']}\) \d+ seconds", lines[2])
    assert lines[3].startswith("messages in queue: ")
    # tcpserver -v's lines, stamped by qmail-logger, in log/SERVICE/current.
    log = inst.wait_for(lambda: b"tcpserver: status" in inst.read("log/smtp/current") and
                        inst.read("log/smtp/current"), what="the smtp log")
    for line in log.splitlines():
        assert re.match(rb"@4000000[0-9a-f]{17} tcpserver: ", line), line
    # Starting again starts nothing.
    r = inst.ctl("start")
    assert r.stdout.decode().splitlines() == [
        f"qmail-send: already running (pid {pids['qmail-send']})",
        f"qmail-smtpd: already running (pid {pids['qmail-smtpd']})",
        f"qmail-pop3d: already running (pid {pids['qmail-pop3d']})"]

    r = inst.ctl("stop", timeout=90)
    assert r.stdout == b"qmail-smtpd: stopped\nqmail-pop3d: stopped\nqmail-send: stopped\n"
    for pid in pids.values():
        assert not pid_alive(pid)
    assert port_free(inst.smtp_port) and port_free(inst.pop3_port)
    assert os.listdir(os.path.join(inst.path, "supervise")) == []
    assert stat_lines(inst)[:3] == ["qmail-send: down", "qmail-smtpd: down", "qmail-pop3d: down"]
    assert inst.ctl("stop").stdout == (b"qmail-smtpd: not running\nqmail-pop3d: not running\n"
                                       b"qmail-send: not running\n")

    # restart from stopped starts everything; restart while running gives
    # new processes on the same ports.
    r = inst.ctl("restart", timeout=90)
    first = started(r.stdout)
    assert set(first) == {"qmail-send", "qmail-smtpd", "qmail-pop3d"}
    r = inst.ctl("restart", timeout=90)
    assert r.stdout.startswith(b"qmail-smtpd: stopped\nqmail-pop3d: stopped\nqmail-send: stopped\n")
    second = started(r.stdout)
    assert set(second) == set(first)
    for prog in first:
        assert first[prog] != second[prog] and not pid_alive(first[prog])
    assert accepts(inst.smtp_port) and accepts(inst.pop3_port)


def test_smtp_in_pop3_out(mailhost):
    inst = mailhost
    inst.ctl("start", timeout=60)
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30) as s:
        code, _ = s.ehlo("client.test")
        assert code == 250
        assert s.mail("sender@remote.test")[0] == 250
        assert s.rcpt("amy@example.test")[0] == 250
        # control/rcptcheck 1 and users/recipients.cdb: refused at RCPT.
        code, text = s.rcpt("nobody@example.test")
        assert (code, text[:5]) == (550, b"5.1.1"), (code, text)
        code, text = s.data(b"Subject: through the listener\r\n\r\nline one\r\n.dot\r\n")  # smtplib stuffs the dot
        assert code == 250, text
    new = os.path.join(inst.amy, "Maildir", "new")
    (name,) = inst.wait_for(lambda: os.listdir(new), what="delivery to amy")
    msg = open(os.path.join(new, name), "rb").read()
    assert msg.startswith(b"Return-Path: <sender@remote.test>\nDelivered-To: amy@example.test\n")
    assert msg.endswith(b"Subject: through the listener\n\nline one\n.dot\n")
    assert re.search(rb"Received: from unknown \(HELO client.test\) \(127.0.0.1\)\n"
                     rb"  by example.test with ESMTP;", msg), msg

    # POP3: the password, then the message back, byte for byte.
    r = inst.ctl("passwd", "amy@example.test", input="s3cret pass\n")
    assert r.stdout == f"passwd: set the password of amy@example.test in " \
                       f"{inst.path}/users/passwd\n".encode()
    (line,) = inst.read("users/passwd").splitlines()
    assert line.startswith(b"amy@example.test:$y$")
    assert os.stat(os.path.join(inst.path, "users/passwd")).st_mode & 0o777 == 0o640
    inst.write("control/pop3plaintext", "1\n")  # loopback, no certificate
    settle(new)
    p = poplib.POP3("127.0.0.1", inst.pop3_port, timeout=30)
    try:
        p.user("amy@example.test")
        p.pass_("s3cret pass")
        assert p.stat() == (1, len(msg))
        resp, lines, _ = p.retr(1)
        assert resp.startswith(b"+OK")
        # qmail-pop3d ends a message with an empty line, as qmail's does.
        assert lines[-1] == b"" and b"\n".join(lines[:-1]) + b"\n" == msg
    finally:
        p.quit()
    # A wrong password is refused.
    p = poplib.POP3("127.0.0.1", inst.pop3_port, timeout=30)
    p.user("amy@example.test")
    with pytest.raises(poplib.error_proto):
        p.pass_("wrong")
    p.close()


def test_tcp_rules_deny(mailhost):
    inst = mailhost
    cdb = os.path.join(inst.path, "control/tcp.smtp.cdb")
    assert os.path.exists(cdb)  # init compiled every tcp.SERVICE
    inst.ctl("start", timeout=60)
    assert greeting(inst.smtp_port).startswith(b"220 ")
    inst.write("control/tcp.smtp", "127.0.0.1:deny\n:allow\n")
    r = inst.ctl("cdb")
    assert r.returncode == 0 and r.stderr == b""
    # tcpserver opens the rules for every connection: no restart.
    assert greeting(inst.smtp_port) == b""
    log = inst.wait_for(lambda: b"tcpserver: deny " in inst.read("log/smtp/current") and
                        inst.read("log/smtp/current"), what="the deny line")
    assert re.search(rb"tcpserver: deny \d+ example.test:127.0.0.1:%d " % inst.smtp_port, log)
    # A syntax error keeps the rules in force.
    inst.write("control/tcp.smtp", "127.0.0.1:allow\n1.2.3.4:frobnicate\n")
    r = inst.ctl("cdb", check=False)
    assert r.returncode == 100
    assert b"tcp.smtp" in r.stderr and b"frobnicate" in r.stderr
    assert greeting(inst.smtp_port) == b""
    assert not os.path.exists(os.path.join(inst.path, "control/tcp.smtp.tmp"))
    inst.write("control/tcp.smtp", ":allow\n")
    inst.ctl("cdb")
    assert greeting(inst.smtp_port).startswith(b"220 ")


def test_port_taken(make_instance):
    smtp, pop3 = free_port(), free_port()
    inst = make_instance(args=["--smtp", f"127.0.0.1:{smtp}", "--pop3", f"127.0.0.1:{pop3}"])
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", pop3))
        squatter.listen()
        t = time.time()
        r = inst.ctl("start", check=False, timeout=60)
        assert time.time() - t < 30
    assert r.returncode == 111, r
    err = r.stderr.decode()
    assert f"qmailctl: fatal: qmail-pop3d (pop3 on 127.0.0.1:{pop3}): " in err, err
    assert "Address already in use" in err, err
    assert f"see {inst.path}/log/pop3/current" in err, err
    assert "stopped again what it had started: qmail-smtpd, qmail-send" in err, err
    # Nothing is left running.
    assert stat_lines(inst)[:3] == ["qmail-send: down", "qmail-smtpd: down", "qmail-pop3d: down"]
    assert os.listdir(os.path.join(inst.path, "supervise")) == []
    assert port_free(smtp)
    # With the port back, start works.
    r = inst.ctl("start", timeout=60)
    assert set(started(r.stdout)) == {"qmail-send", "qmail-smtpd", "qmail-pop3d"}


def test_listener_configuration_errors(make_instance):
    port = free_port()
    inst = make_instance(args=["--qmqp", f"127.0.0.1:{port}"])
    # A program the listener runs is missing: refused before anything starts.
    prog = os.path.join(inst.path, "bin/qmail-qmqpd")
    os.rename(prog, prog + ".away")
    r = inst.ctl("start", check=False)
    assert r.returncode == 100
    assert f"no {prog} for {inst.path}/control/listen.qmqp".encode() in r.stderr
    os.rename(prog + ".away", prog)
    inst.write("control/listen.qmqp", "nonsense\n")
    r = inst.ctl("start", check=False)
    assert r.returncode == 100
    assert b"control/listen.qmqp" in r.stderr
    assert stat_lines(inst)[0] == "qmail-send: down"  # checked before starting anything
    # No rules at all: refused, since tcpserver -x would drop every connection.
    inst.write("control/listen.qmqp", f"127.0.0.1:{port}\n")
    os.unlink(os.path.join(inst.path, "control/tcp.qmqp"))
    os.unlink(os.path.join(inst.path, "control/tcp.qmqp.cdb"))
    r = inst.ctl("start", check=False)
    assert r.returncode == 100 and b"control/tcp.qmqp" in r.stderr
    # A rules source without its cdb: start compiles it.
    inst.write("control/tcp.qmqp", "127.:allow\n:deny\n")
    r = inst.ctl("start", timeout=60)
    assert b"qmail-qmqpd: started (pid " in r.stdout
    assert os.path.exists(os.path.join(inst.path, "control/tcp.qmqp.cdb"))
    assert accepts(port)


def test_concurrency_per_ip(make_instance):
    port = free_port()
    inst = make_instance(args=["--smtp", f"127.0.0.1:{port}"])
    inst.write("control/concurrencyperip", "1\n")
    inst.ctl("start", timeout=60)
    # start's own check connection must have ended first.
    log = os.path.join(inst.path, "log/smtp/current")
    # qmail-logger creates current with its first line: it may not exist yet.
    inst.wait_for(lambda: os.path.exists(log) and b"tcpserver: end " in inst.read(log),
                  what="the end of start's check connection")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as first:
        first.settimeout(10)
        assert first.recv(4096).startswith(b"220 ")
        # The second at once from the same address: tcpserver -C 1 -M.
        assert greeting(port) == b"421 4.7.0 too many connections from your address (#4.7.0)\r\n"


def test_passwd_exit_codes(instance):
    r = instance.ctl("passwd", "joe@example.test", input="pw\n")
    assert r.returncode == 0
    # A bare local part is joe@ control/me.
    r = instance.ctl("passwd", "Kim", input="pw2")
    assert r.stdout.endswith(b"kim@example.test in " + instance.path.encode() + b"/users/passwd\n")
    names = [l.split(b":")[0] for l in instance.read("users/passwd").splitlines()]
    assert names == [b"joe@example.test", b"kim@example.test"]
    for addr, data in (("a b@example.test", "pw\n"), ("@example.test", "pw\n"),
                       ("x:y@example.test", "pw\n"), ("ok@example.test", ""),
                       ("ok@example.test", "\n"), ("ok@example.test", "a\0b\n"),
                       ("ok@example.test", "x" * 2000 + "\n")):
        r = instance.ctl("passwd", addr, input=data, check=False)
        assert r.returncode == 100, (addr, data[:10], r)
        assert r.stderr.startswith(b"qmailctl: fatal: ")
    assert b"ok@" not in instance.read("users/passwd")
    # The store cannot be written: temporary.
    users = os.path.join(instance.path, "users")
    os.chmod(users, 0o555)
    try:
        r = instance.ctl("passwd", "joe@example.test", input="new\n", check=False)
    finally:
        os.chmod(users, 0o755)
    assert r.returncode == 111, r
    r = instance.ctl("passwd", check=False)
    assert r.returncode == 100 and b"usage: qmailctl" in r.stderr


def test_dkim_keygen(instance):
    r = instance.ctl("dkim-keygen", "Example.TEST")
    out = r.stdout.decode()
    assert out.startswith('default._domainkey.example.test. IN TXT "v=DKIM1; k=rsa; p=MII'), out
    assert out.endswith('"\n') and out.count("\n") == 1
    key = os.path.join(instance.path, "control/dkim/example.test/default.key")
    assert os.stat(key).st_mode & 0o777 == 0o600
    assert open(key, "rb").read().startswith(b"-----BEGIN PRIVATE KEY-----")
    # The record is the one qmail-dkim dns prints for the key.
    d = instance.run(["qmail-dkim", "dns", "example.test", "default"])
    assert d.returncode == 0 and d.stdout.decode() == out
    r = instance.ctl("dkim-keygen", "example.test", "--ed25519")
    assert r.stdout.decode().startswith(
        'ed25519._domainkey.example.test. IN TXT "v=DKIM1; k=ed25519; p=')
    r = instance.ctl("dkim-keygen", "example.test", "s2024", "--ed25519")
    assert r.stdout.startswith(b"s2024._domainkey.example.test. IN TXT")
    # An existing key is never replaced.
    before = open(key, "rb").read()
    r = instance.ctl("dkim-keygen", "example.test", check=False)
    assert r.returncode == 100 and r.stdout == b""
    assert open(key, "rb").read() == before
    r = instance.ctl("dkim-keygen", "bad domain", check=False)
    assert r.returncode == 100


@pytest.mark.skipif(os.geteuid() != 0, reason="the system instance needs root")
def test_system_instance_listeners(qng_bin):
    root = tempfile.mkdtemp(prefix="qng-sys-", dir="/tmp")
    os.chmod(root, 0o755)
    path = os.path.join(root, "qmail")
    smtp, pop3 = free_port(), free_port()
    ctl = os.path.join(qng_bin, "qmailctl")
    try:
        r = subprocess.run([ctl, "init", "--system", path, "--me", "sys.test",
                            "--smtp", f"127.0.0.1:{smtp}", "--pop3", f"127.0.0.1:{pop3}"],
                           capture_output=True, timeout=60)
        assert r.returncode == 0, r.stderr
        r = subprocess.run([ctl, "-d", path, "start"], capture_output=True, timeout=60)
        assert r.returncode == 0, r.stderr
        pids = started(r.stdout)
        uid = {n: pwd.getpwnam(n).pw_uid for n in ("qmaild", "qmaill")}
        # tcpserver binds as root, then runs qmail-smtpd's listener as qmaild;
        # the POP3 chain stays root for qmail-checkpassword.
        assert proc_uid(pids["qmail-smtpd"]) == uid["qmaild"]
        assert proc_uid(pids["qmail-pop3d"]) == 0
        assert greeting(smtp).startswith(b"220 sys.test ESMTP")
        assert greeting(pop3).startswith(b"+OK ")
        for svc in ("smtp", "pop3"):
            assert os.stat(os.path.join(path, "log", svc)).st_uid == uid["qmaill"]
        loggers = [int(p) for p in os.listdir("/proc") if p.isdigit() and
                   _cmdline(p).startswith(f"{path}/bin/qmail-logger\0{path}/log/smtp".encode())]
        assert loggers and all(proc_uid(p) == uid["qmaill"] for p in loggers)
        r = subprocess.run([ctl, "-d", path, "stop"], capture_output=True, timeout=90)
        assert r.returncode == 0 and port_free(smtp) and port_free(pop3)
    finally:
        subprocess.run([ctl, "-d", path, "stop"], capture_output=True, timeout=90)
        shutil.rmtree(root, ignore_errors=True)


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def test_run_demo(qng_bin, test_user):
    """scripts/run-demo.sh DIR (make run) on a temporary directory and
    ports: SMTP and POP3 up, demo@localhost with password demo."""
    root = tempfile.mkdtemp(prefix="qng-demo-", dir="/tmp")
    os.chmod(root, 0o755)
    path = os.path.join(root, "run")
    inst = Instance(root, path, qng_bin, test_user, "localhost")
    smtp, pop3 = free_port(), free_port()
    env = dict(os.environ, QNG_BIN=qng_bin, DEMO_SMTP=f"127.0.0.1:{smtp}",
               DEMO_POP3=f"127.0.0.1:{pop3}")
    try:
        r = subprocess.run(["sh", os.path.join(SOURCE, "scripts/run-demo.sh"), path], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        out = r.stdout.decode()
        assert r.returncode == 0, out + r.stderr.decode()
        assert f"swaks --server 127.0.0.1:{smtp} --to demo@localhost" in out
        assert f"curl pop3://demo:demo@127.0.0.1:{pop3}/1" in out
        assert f"qmailctl -d {path} stop" in out
        assert inst.read("control/pop3plaintext") == b"1\n"
        assert accepts(smtp) and accepts(pop3)
        # The documented way in: SMTP (with AUTH in the clear on loopback)...
        with smtplib.SMTP("127.0.0.1", smtp, timeout=30) as s:
            s.login("demo@localhost", "demo")
            s.sendmail("someone@example.org", ["demo@localhost"],
                       b"Subject: demo\r\n\r\nhello demo\r\n")
        new = os.path.join(path, "home/demo/Maildir/new")
        inst.wait_for(lambda: os.listdir(new), what="delivery to demo")
        settle(new)
        # ... and out by POP3 as "demo" / "demo".
        p = poplib.POP3("127.0.0.1", pop3, timeout=30)
        p.user("demo")
        p.pass_("demo")
        _, lines, _ = p.retr(1)
        p.quit()
        assert b"Delivered-To: demo@localhost" in lines and lines[-2:] == [b"hello demo", b""]
        # Run again: the running demo stays as it is.
        r = subprocess.run(["sh", os.path.join(SOURCE, "scripts/run-demo.sh"), path], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        assert r.returncode == 0, r.stderr
        assert b"already running" in r.stdout
        r = inst.ctl("stop", timeout=90)
        assert r.stdout == b"qmail-smtpd: stopped\nqmail-pop3d: stopped\nqmail-send: stopped\n"
        assert port_free(smtp) and port_free(pop3)
    finally:
        inst.ctl("stop", check=False, timeout=90)
        shutil.rmtree(root, ignore_errors=True)
