# test_smtpd.py: the real bin/qmail-smtpd on a real instance, one process
# per connection as tcpserver runs it (the connection on fd 0 and fd 1, the
# ucspi-tcp environment), driven by smtplib, swaks and raw sockets. A
# $QMAILQUEUE stand-in records the bytes and envelopes handed to the queue;
# one test uses the real bin/qmail-queue and reads queue/ on disk.
import os
import re
import shutil
import smtplib
import socket
import ssl
import subprocess
import tempfile
import threading
import time

import pytest

GREETING = "example.test"
DATE = rb"\d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d -0000"

# Records what qmail-smtpd queues: fd 0 -> N.msg, fd 1 -> N.env, in order.
# Exits as DIR/exitcode says (a qmail-queue exit code), else 0; an envelope
# without its final NUL (an abandoned message) is never recorded.
STANDIN = r'''#!/usr/bin/python3
import os, sys, time
d = sys.argv[0] + ".d"
msg = sys.stdin.buffer.read()
env = b""
while True:
    chunk = os.read(1, 65536)
    if not chunk:
        break
    env += chunk
try:
    with open(os.path.join(d, "exitcode")) as f:
        sys.exit(int(f.read()))
except FileNotFoundError:
    pass
if not env.endswith(b"\0\0") or not env.startswith(b"F"):
    sys.exit(54)
n = "%020d" % time.monotonic_ns()
for ext, data in (("msg", msg), ("env", env)):
    with open(os.path.join(d, "tmp"), "wb") as f:
        f.write(data)
    os.rename(os.path.join(d, "tmp"), os.path.join(d, n + "." + ext))
'''

# A checkpassword stand-in: alice/secret is right, "tempfail" is a
# temporary failure, anything else wrong. fd 3 must hold user\0pass\0\0.
CHECKPASSWORD = r'''#!/bin/sh
data=$(tr '\0' ':' <&3)
[ "$1" = /bin/true ] || exit 2
case "$data" in
  alice:secret::) exit 0 ;;
  tempfail:*) exit 111 ;;
  *) exit 1 ;;
esac
'''


class Raw:
    """A byte-exact SMTP client."""

    def __init__(self, port, timeout=10):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def reply(self):
        """One whole reply: its lines, CRLF removed, joined by LF."""
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.s.recv(65536)
                if not chunk:
                    raise EOFError(f"connection closed; had {lines!r} {self.buf!r}")
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line.decode("utf-8", "replace"))
            if len(line) < 4 or line[3:4] != b"-":
                return "\n".join(lines)

    def cmd(self, line):
        self.send(line.encode() + b"\r\n" if isinstance(line, str) else line + b"\r\n")
        return self.reply()

    def closed(self):
        """True when the server closed the connection (waits up to the timeout)."""
        try:
            while True:
                chunk = self.s.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def starttls(self):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.s = ctx.wrap_socket(self.s)

    def close(self):
        self.s.close()


class Smtpd:
    """A listener that runs the instance's bin/qmail-smtpd per connection."""

    def __init__(self, inst, env):
        self.inst = inst
        self.env = dict(env)
        self.qdir = None
        self.log = os.path.join(inst.root, "smtpd.log")
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(16)
        self.port = self.lsock.getsockname()[1]
        self.procs = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, addr = self.lsock.accept()
            except OSError:
                return
            env = {"PROTO": "TCP", "TCPREMOTEIP": addr[0], "TCPREMOTEPORT": str(addr[1]),
                   "TCPREMOTEHOST": "localhost", "TCPLOCALIP": "127.0.0.1",
                   "TCPLOCALPORT": str(self.port), "TCPLOCALHOST": "mx.example.test"}
            env.update(self.env)
            env = {k: v for k, v in env.items() if v is not None}
            with open(self.log, "ab") as log:
                p = self.inst.popen(["qmail-smtpd"], env=env, stdin=conn, stdout=conn,
                                    stderr=log)
            conn.close()
            self.procs.append(p)

    def close(self):
        self.lsock.close()
        for p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def raw(self, timeout=10):
        r = Raw(self.port, timeout)
        greeting = r.reply()
        assert greeting == f"220 {GREETING} ESMTP", greeting
        return r

    def smtp(self):
        return smtplib.SMTP("127.0.0.1", self.port, timeout=10)

    def control(self, name, text):
        if text is None:
            p = os.path.join(self.inst.path, "control", name)
            if os.path.exists(p):
                os.unlink(p)
        else:
            self.inst.write(f"control/{name}", text)

    def queued(self):
        """[(message bytes, envelope bytes)] recorded by the stand-in, in order."""
        names = sorted(n[:-4] for n in os.listdir(self.qdir) if n.endswith(".env"))
        out = []
        for n in names:
            with open(os.path.join(self.qdir, n + ".msg"), "rb") as f:
                msg = f.read()
            with open(os.path.join(self.qdir, n + ".env"), "rb") as f:
                env = f.read()
            out.append((msg, env))
        return out

    def set_queue_exit(self, code):
        self.inst.write(os.path.relpath(os.path.join(self.qdir, "exitcode"), self.inst.path),
                        str(code))


def rebuild_cdb(inst):
    inst.ctl("cdb")
    assert os.path.exists(os.path.join(inst.path, "users", "recipients.cdb")), \
        "qmailctl cdb must build users/recipients.cdb (build_recipients_db)"


@pytest.fixture
def mx(make_instance):
    inst = make_instance(me=GREETING)
    inst.add_user("joe")  # joe@example.test and joe-*; rebuilds the cdbs
    rebuild_cdb(inst)
    standin = os.path.join(inst.root, "qq")
    with open(standin, "w") as f:
        f.write(STANDIN)
    os.chmod(standin, 0o755)
    os.makedirs(standin + ".d")
    inst.chown(standin + ".d")
    server = Smtpd(inst, {"QMAILQUEUE": standin})
    server.qdir = standin + ".d"
    yield server
    server.close()
    with open(server.log, "rb") as f:
        log = f.read()
    assert log == b"", log  # qmail-smtpd says nothing on stderr (sanitizers neither)


@pytest.fixture(scope="module")
def certificate():
    d = tempfile.mkdtemp(prefix="qng-cert-")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj",
                    "/CN=example.test", "-days", "2", "-keyout", f"{d}/key.pem", "-out",
                    f"{d}/cert.pem"], check=True, capture_output=True, timeout=120)
    with open(f"{d}/cert.pem", "rb") as c, open(f"{d}/key.pem", "rb") as k:
        pem = c.read() + k.read()
    shutil.rmtree(d)
    return pem


def with_tls(mx, certificate):
    mx.inst.write("control/servercert.pem", certificate, 0o600)


def with_checkpassword(mx):
    p = os.path.join(mx.inst.root, "checkpw")
    with open(p, "w") as f:
        f.write(CHECKPASSWORD)
    os.chmod(p, 0o755)
    mx.control("checkpassword", p + "\n")


def keywords(ehlo_reply):
    """The EHLO keywords of a reply (its lines after the first)."""
    return [line[4:] for line in ehlo_reply.split("\n")[1:]]


def send_one(r, body, sender="a@example.org", rcpt="joe@example.test"):
    assert r.cmd(f"MAIL FROM:<{sender}>") == "250 2.1.0 ok"
    assert r.cmd(f"RCPT TO:<{rcpt}>") == "250 2.1.5 ok"
    assert r.cmd("DATA") == "354 go ahead"
    r.send(body)
    return r.reply()


# --- the conversation ------------------------------------------------------

def test_greeting_and_simple_commands(mx):
    r = mx.raw()
    assert r.cmd("HELO client.example") == f"250 {GREETING}"
    assert r.cmd("EHLO client.example") == "\n".join(
        [f"250-{GREETING}", "250-PIPELINING", "250-8BITMIME", "250-SIZE",
         "250-ENHANCEDSTATUSCODES", "250 SMTPUTF8"])
    assert r.cmd("NOOP") == "250 2.0.0 ok"
    assert r.cmd("noop with args") == "250 2.0.0 ok"
    assert r.cmd("RSET") == "250 2.0.0 flushed"
    assert r.cmd("VRFY joe") == "252 2.0.0 send some mail, i'll try my best"
    assert r.cmd("HELP").startswith("214 2.0.0 ")
    assert r.cmd("EXPN joe") == "502 5.5.1 unimplemented (#5.5.1)"
    assert r.cmd("") == "502 5.5.1 unimplemented (#5.5.1)"
    assert r.cmd("STARTTLS") == "502 5.5.1 unimplemented (#5.5.1)"  # no certificate
    assert r.cmd("AUTH PLAIN AGpvZQBwdw==") == "502 5.5.1 unimplemented (#5.5.1)"
    assert r.cmd("QUIT") == f"221 2.0.0 {GREETING}"
    assert r.closed()


def test_ehlo_size_and_smtpgreeting(mx):
    mx.control("databytes", "5000\n")
    mx.control("smtpgreeting", "mail.example.test hello\n")
    r = Raw(mx.port)
    assert r.reply() == "220 mail.example.test hello ESMTP"
    assert "250-SIZE 5000" in r.cmd("EHLO x").split("\n")
    mx.env["DATABYTES"] = "77"  # the environment overrides control/databytes
    r = Raw(mx.port)
    r.reply()
    assert "250-SIZE 77" in r.cmd("EHLO x").split("\n")


def test_sequencing(mx):
    r = mx.raw()
    assert r.cmd("RCPT TO:<joe@example.test>") == "503 5.5.1 MAIL first (#5.5.1)"
    assert r.cmd("DATA") == "503 5.5.1 MAIL first (#5.5.1)"
    assert r.cmd("MAIL FROM:<a@example.org>") == "250 2.1.0 ok"
    assert r.cmd("DATA") == "503 5.5.1 RCPT first (#5.5.1)"
    assert r.cmd("RCPT TO:<joe@example.test>") == "250 2.1.5 ok"
    assert r.cmd("RSET") == "250 2.0.0 flushed"
    assert r.cmd("RCPT TO:<joe@example.test>") == "503 5.5.1 MAIL first (#5.5.1)"
    assert send_one(r, b"x\r\n.\r\n").startswith("250 2.0.0 ok ")
    # After DATA a new MAIL is needed.
    assert r.cmd("RCPT TO:<joe@example.test>") == "503 5.5.1 MAIL first (#5.5.1)"
    # MAIL resets the recipients.
    assert r.cmd("MAIL FROM:<a@example.org>") == "250 2.1.0 ok"
    assert r.cmd("RCPT TO:<joe@example.test>") == "250 2.1.5 ok"
    assert r.cmd("MAIL FROM:<b@example.org>") == "250 2.1.0 ok"
    assert r.cmd("DATA") == "503 5.5.1 RCPT first (#5.5.1)"
    assert r.cmd("HELO x") == f"250 {GREETING}"  # HELO ends the transaction too
    assert r.cmd("RCPT TO:<joe@example.test>") == "503 5.5.1 MAIL first (#5.5.1)"


def test_address_syntax(mx):
    r = mx.raw()
    assert r.cmd("MAIL FROM:<a@example.org") == "555 5.5.4 syntax error (#5.5.4)"
    assert r.cmd("MAIL FROM:<" + "a" * 890 + "@example.org>") == \
        "555 5.5.4 syntax error (#5.5.4)"  # over qmail's 900 bytes
    assert r.cmd("MAIL FROM:<>") == "250 2.1.0 ok"
    assert r.cmd("RCPT TO:<>") == "555 5.5.4 syntax error (#5.5.4)"
    assert r.cmd("RCPT TO:<@route.example:joe@example.test>") == "250 2.1.5 ok"
    assert r.cmd('RCPT TO:<"joe"@example.test>') == "250 2.1.5 ok"
    assert r.cmd("RCPT TO:joe@example.test") == "250 2.1.5 ok"  # qmail's leniency
    assert r.cmd("DATA") == "354 go ahead"
    r.send(b".\r\n")
    assert r.reply().startswith("250 ")
    assert send_one(r, b".\r\n", sender="", rcpt="joe@Example.TEST").startswith("250 ")
    assert [e for _, e in mx.queued()] == [
        b"F\0Tjoe@example.test\0Tjoe@example.test\0Tjoe@example.test\0\0",
        b"F\0Tjoe@Example.TEST\0\0"]


def test_mail_parameters(mx):
    mx.control("databytes", "100\n")
    r = mx.raw()
    r.cmd("EHLO x")
    assert r.cmd("MAIL FROM:<a@example.org> SIZE=101") == \
        "552 5.3.4 sorry, that message size exceeds my databytes limit (#5.3.4)"
    assert r.cmd("MAIL FROM:<a@example.org> SIZE=1x") == "555 5.5.4 syntax error (#5.5.4)"
    assert r.cmd("MAIL FROM:<a@example.org> FOO=bar") == "555 5.5.4 unsupported parameter"
    assert r.cmd("MAIL FROM:<a@example.org> BODY=BINARYMIME") == \
        "555 5.5.4 unsupported parameter"
    assert r.cmd("MAIL FROM:<a@example.org> SIZE=100 BODY=8BITMIME SMTPUTF8 AUTH=<>") == \
        "250 2.1.0 ok"
    assert r.cmd("MAIL FROM:<a@example.org> body=7bit") == "250 2.1.0 ok"
    assert r.cmd("RCPT TO:<joe@example.test> NOTIFY=NEVER") == "555 5.5.4 unsupported parameter"


def test_smtputf8(mx):
    r = mx.raw()
    r.cmd("EHLO x")
    assert r.cmd("MAIL FROM:<j\u00f6e@example.org>".encode()) == \
        "553 5.6.7 non-ASCII address requires SMTPUTF8"
    assert r.cmd("MAIL FROM:<j\u00f6e@example.org> SMTPUTF8".encode()) == "250 2.1.0 ok"
    assert r.cmd("RCPT TO:<joe@example.test>") == "250 2.1.5 ok"
    assert r.cmd("DATA") == "354 go ahead"
    r.send(b"x\r\n.\r\n")
    assert r.reply().startswith("250 ")
    [(msg, env)] = mx.queued()
    assert b" with UTF8SMTP; " in msg
    assert env == "Fj\u00f6e@example.org\0Tjoe@example.test\0\0".encode()


# --- the bytes that reach the queue ---------------------------------------

def test_queued_bytes_and_received_line(mx):
    r = mx.raw()
    assert r.cmd("EHLO client.example").startswith("250-")
    t0 = int(time.time())
    reply = send_one(r, b"Subject: hi\r\n\r\n..leading dot\r\n..\r\nline\r\n\r\n.\r\n")
    m = re.fullmatch(r"250 2\.0\.0 ok (\d+) qp (\d+)", reply)
    assert m and t0 <= int(m.group(1)) <= time.time() + 1, reply
    [(msg, env)] = mx.queued()
    assert env == b"Fa@example.org\0Tjoe@example.test\0\0"
    assert re.fullmatch(
        rb"Received: from localhost \(HELO client\.example\) \(127\.0\.0\.1\)\n"
        rb"  by mx\.example\.test with ESMTP; " + DATE + rb"\n"
        rb"Subject: hi\n\n\.leading dot\n\.\nline\n\n", msg), msg


def test_received_line_without_helo_and_with_remoteinfo(mx):
    mx.env.update({"TCPREMOTEINFO": "ident user", "TCPREMOTEHOST": None,
                   "TCPLOCALHOST": None})
    r = mx.raw()
    assert send_one(r, b"x\r\n.\r\n").startswith("250 ")
    [(msg, env)] = mx.queued()
    assert re.match(rb"Received: from unknown \(ident\?user@127\.0\.0\.1\)\n"
                    rb"  by 127\.0\.0\.1 with SMTP; " + DATE + rb"\nx\n$", msg), msg


def test_pipelining_with_smtplib_and_swaks(mx):
    with mx.smtp() as s:
        refused = s.sendmail("a@example.org", ["joe@example.test", "joe-x@example.test"],
                             b"Subject: t\r\n\r\nbody\r\n")
        assert refused == {"joe-x@example.test": (550, b"5.1.1 sorry, no mailbox here by that name")}
    r = subprocess.run(["swaks", "--server", f"127.0.0.1:{mx.port}", "--pipeline",
                        "--from", "s@example.org", "--to", "joe@example.test",
                        "--header", "Subject: swaks", "--body", "hello"],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert b"<** " not in r.stdout
    q = mx.queued()
    assert len(q) == 2
    assert q[0][1] == b"Fa@example.org\0Tjoe@example.test\0\0"
    assert q[0][0].endswith(b"\nSubject: t\n\nbody\n")
    assert q[1][1] == b"Fs@example.org\0Tjoe@example.test\0\0"
    assert b"\nSubject: swaks\n" in q[1][0] and b"\n\nhello\n" in q[1][0]


def test_real_qmail_queue(mx):
    del mx.env["QMAILQUEUE"]
    r = mx.raw()
    r.cmd("EHLO client.example")
    reply = send_one(r, b"Subject: real\r\n\r\nbody\r\n.\r\n")
    m = re.fullmatch(r"250 2\.0\.0 ok \d+ qp (\d+)", reply)
    assert m, reply
    qp = m.group(1).encode()
    q = os.path.join(mx.inst.path, "queue")
    todo = os.listdir(os.path.join(q, "todo"))
    assert len(todo) == 1
    n = int(todo[0])
    with open(os.path.join(q, "todo", todo[0]), "rb") as f:
        envelope = f.read()
    assert envelope == (b"u%d\0p%s\0Fa@example.org\0Tjoe@example.test\0"
                        % (mx.inst.user.uid, qp))
    with open(os.path.join(q, "mess", str(n % 23), str(n)), "rb") as f:
        mess = f.read()
    assert re.fullmatch(
        rb"Received: \(qmail " + qp + rb" invoked by uid \d+\); " + DATE + rb"\n"
        rb"Received: from localhost \(HELO client\.example\) \(127\.0\.0\.1\)\n"
        rb"  by mx\.example\.test with ESMTP; " + DATE + rb"\n"
        rb"Subject: real\n\nbody\n", mess), mess


def test_queue_failures(mx):
    r = mx.raw()
    mx.set_queue_exit(71)
    assert send_one(r, b"x\r\n.\r\n") == \
        "451 4.3.0 mail server temporarily rejected message (#4.3.0)"
    mx.set_queue_exit(31)
    assert send_one(r, b"x\r\n.\r\n") == \
        "554 5.3.0 mail server permanently rejected message (#5.3.0)"
    mx.set_queue_exit(53)
    assert send_one(r, b"x\r\n.\r\n") == "451 4.3.0 qq write error or disk full (#4.3.0)"
    mx.env["QMAILQUEUE"] = "/nonexistent/qmail-queue"
    r = mx.raw()
    assert send_one(r, b"x\r\n.\r\n") == "451 4.3.0 unable to exec qq (#4.3.0)"


# --- refusals after DATA ---------------------------------------------------

SMUGGLED = b"MAIL FROM:<evil@example.org>\r\nRCPT TO:<joe@example.test>\r\nDATA\r\nevil\r\n"


@pytest.mark.parametrize("end", [b"\n.\n", b"\r\n.\n", b"\n.\r\n", b"\r.\r\n", b"\r\n.\r"])
def test_smuggling_never_ends_data(mx, end):
    r = mx.raw()
    r.cmd("EHLO x")
    reply = send_one(r, b"Subject: x\r\n\r\nhello" + end + SMUGGLED + b".\r\n")
    # One reply for the whole thing: the smuggled MAIL, RCPT and DATA were text.
    assert reply == ("554 5.6.0 sorry, bare LF or CR in message; "
                     "see https://cr.yp.to/docs/smtplf.html")
    assert r.cmd("NOOP") == "250 2.0.0 ok"
    assert mx.queued() == []


def test_bare_cr_and_nul_refused(mx):
    r = mx.raw()
    assert send_one(r, b"a\rb\r\n.\r\n").startswith("554 5.6.0 sorry, bare LF or CR")
    assert send_one(r, b"a\0b\r\n.\r\n") == "554 5.6.0 sorry, NUL character in message"
    assert mx.queued() == []
    assert send_one(r, b"fine\r\n.\r\n").startswith("250 ")
    assert len(mx.queued()) == 1


def test_databytes_and_hops(mx):
    mx.control("databytes", "20\n")
    r = mx.raw()
    assert send_one(r, b"x" * 30 + b"\r\n.\r\n") == \
        "552 5.3.4 sorry, that message size exceeds my databytes limit (#5.3.4)"
    assert send_one(r, b"x" * 19 + b"\r\n.\r\n").startswith("250 ")  # 20 stored bytes
    mx.control("databytes", None)
    r = mx.raw()
    hops = b"Received: from a by b\r\n" * 100
    assert send_one(r, hops + b"\r\nbody\r\n.\r\n") == \
        "554 5.4.6 too many hops, this message is looping (#5.4.6)"
    assert send_one(r, hops[23:] + b"\r\nbody\r\n.\r\n").startswith("250 ")
    assert len(mx.queued()) == 2


# --- policy ----------------------------------------------------------------

def test_relaying(mx):
    r = mx.raw()
    assert r.cmd("MAIL FROM:<a@example.org>") == "250 2.1.0 ok"
    assert r.cmd("RCPT TO:<x@other.test>") == \
        "553 5.7.1 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)"
    assert r.cmd("RCPT TO:<joe@localhost>") == "250 2.1.5 ok"  # rcpthosts from init
    assert r.cmd("RCPT TO:<joe@[127.0.0.1]>") == "250 2.1.5 ok"  # our IP: localiphost
    assert r.cmd("DATA") == "354 go ahead"
    r.send(b".\r\n")
    assert r.reply().startswith("250 ")
    assert mx.queued()[0][1] == b"Fa@example.org\0Tjoe@localhost\0Tjoe@example.test\0\0"

    mx.env["RELAYCLIENT"] = ""
    assert send_one(mx.raw(), b".\r\n", rcpt="x@other.test").startswith("250 ")
    mx.env["RELAYCLIENT"] = "+relayed"  # qmail appends the value to each recipient
    assert send_one(mx.raw(), b".\r\n", rcpt="x@other.test").startswith("250 ")
    envs = [e for _, e in mx.queued()]
    assert envs[1:] == [b"Fa@example.org\0Tx@other.test\0\0",
                        b"Fa@example.org\0Tx@other.test+relayed\0\0"]


def test_missing_rcpthosts_is_not_an_open_relay(mx):
    mx.control("rcpthosts", None)
    mx.control("virtualdomains", "virt.test:joe\n")
    r = mx.raw()
    r.cmd("MAIL FROM:<a@example.org>")
    assert r.cmd("RCPT TO:<x@other.test>").startswith("553 5.7.1 ")
    assert r.cmd("RCPT TO:<joe@example.test>") == "250 2.1.5 ok"
    assert r.cmd("RCPT TO:<x@virt.test>") == "250 2.1.5 ok"  # not checked: db is older
    mx.control("openrelay", "1\n")
    r = mx.raw()
    r.cmd("MAIL FROM:<a@example.org>")
    assert r.cmd("RCPT TO:<x@other.test>") == "250 2.1.5 ok"


def test_badmailfrom(mx):
    mx.control("badmailfrom", "bad@example.org\n@spam.example\n")
    r = mx.raw()
    for sender in ("bad@example.org", "BAD@Example.Org", "anyone@spam.example"):
        assert r.cmd(f"MAIL FROM:<{sender}>") == "250 2.1.0 ok"
        assert r.cmd("RCPT TO:<joe@example.test>") == \
            "553 5.7.1 sorry, your envelope sender is in my badmailfrom list (#5.7.1)"
    assert r.cmd("MAIL FROM:<good@example.org>") == "250 2.1.0 ok"
    assert r.cmd("RCPT TO:<joe@example.test>") == "250 2.1.5 ok"


def test_recipient_limit(mx):
    mx.control("maxrcpt", "3\n")
    mx.inst.write("home/joe/.qmail-default", "./Maildir/\n", 0o600)
    rebuild_cdb(mx.inst)
    r = mx.raw()
    r.cmd("MAIL FROM:<a@example.org>")
    for i in range(3):
        assert r.cmd(f"RCPT TO:<joe-{i}@example.test>") == "250 2.1.5 ok"
    assert r.cmd("RCPT TO:<joe-3@example.test>") == "452 4.5.3 too many recipients"
    assert r.cmd("DATA") == "354 go ahead"
    r.send(b".\r\n")
    assert r.reply().startswith("250 ")
    assert mx.queued()[0][1].count(b"\0T") == 3


def test_recipient_check(mx):
    inst = mx.inst
    inst.write("home/joe/.qmail-news", "./Maildir/\n", 0o600)
    inst.write("home/joe/.qmail-lists-default", "./Maildir/\n", 0o600)
    inst.write("control/virtualdomains", "virt.test:joe\n")
    inst.write("control/rcpthosts", "example.test\nvirt.test\n")
    rebuild_cdb(inst)
    r = mx.raw()
    r.cmd("MAIL FROM:<a@example.org>")
    nomailbox = "550 5.1.1 sorry, no mailbox here by that name"
    for rcpt, want in [("joe@example.test", "250 2.1.5 ok"),
                       ("JOE@EXAMPLE.TEST", "250 2.1.5 ok"),
                       ("joe-news@example.test", "250 2.1.5 ok"),
                       ("joe-lists-qmail@example.test", "250 2.1.5 ok"),
                       ("joe-nosuch@example.test", nomailbox),
                       ("nosuch@example.test", nomailbox),
                       ("postmaster@example.test", "250 2.1.5 ok"),
                       ("news@virt.test", "250 2.1.5 ok"),
                       ("other@virt.test", nomailbox)]:
        assert r.cmd(f"RCPT TO:<{rcpt}>") == want, rcpt

    # Without the database nothing of ours is guessed: 451; others pass.
    os.unlink(os.path.join(inst.path, "users", "recipients.cdb"))
    mx.env["RELAYCLIENT"] = ""
    r = mx.raw()
    r.cmd("MAIL FROM:<a@example.org>")
    assert r.cmd("RCPT TO:<joe@example.test>") == "451 4.3.0 recipient database unavailable"
    assert r.cmd("RCPT TO:<x@other.test>") == "250 2.1.5 ok"

    mx.control("rcptcheck", "0\n")  # qmail's behaviour: accept, bounce later
    r = mx.raw()
    r.cmd("MAIL FROM:<a@example.org>")
    assert r.cmd("RCPT TO:<nosuch@example.test>") == "250 2.1.5 ok"


# --- limits ----------------------------------------------------------------

def test_line_too_long(mx):
    r = mx.raw()
    assert r.cmd("NOOP " + "x" * 995) == "250 2.0.0 ok"  # 1000 bytes
    assert r.cmd("NOOP " + "x" * 996) == "500 5.5.2 line too long"
    assert r.cmd("NOOP " + "x" * 100000) == "500 5.5.2 line too long"
    assert r.cmd(b"NO\0OP") == "500 5.5.2 NUL character in command"
    assert r.cmd("NOOP") == "250 2.0.0 ok"


def test_too_many_bad_commands(mx):
    mx.control("maxbadcommands", "3\n")
    r = mx.raw()
    for _ in range(3):
        assert r.cmd("BOGUS") == "502 5.5.1 unimplemented (#5.5.1)"
    # The third bad command is the last one: 421 follows at once.
    assert r.reply() == "421 4.7.0 too many bad commands, closing connection"
    assert r.closed()


def test_idle_timeout(mx):
    mx.control("timeoutsmtpd", "1\n")
    r = mx.raw()
    t0 = time.time()
    assert r.reply() == "451 4.4.2 timeout (#4.4.2)"
    assert r.closed()
    assert time.time() - t0 < 10
    # In the middle of DATA too; nothing is queued.
    r = mx.raw()
    r.cmd("MAIL FROM:<a@example.org>")
    r.cmd("RCPT TO:<joe@example.test>")
    assert r.cmd("DATA") == "354 go ahead"
    r.send(b"partial\r\n")
    assert r.reply() == "451 4.4.2 timeout (#4.4.2)"
    assert r.closed()
    assert mx.queued() == []


def test_session_time_limit(mx):
    mx.control("timeoutsmtpdsession", "2\n")
    r = mx.raw()
    t0 = time.time()
    assert r.cmd("NOOP") == "250 2.0.0 ok"
    assert r.reply() == "421 4.4.2 session time limit exceeded, closing connection"
    assert r.closed()
    assert time.time() - t0 < 10


# --- STARTTLS --------------------------------------------------------------

def test_starttls(mx, certificate):
    with_tls(mx, certificate)
    r = mx.raw()
    assert "STARTTLS" in keywords(r.cmd("EHLO x"))
    assert r.cmd("STARTTLS now") == "501 5.5.4 syntax error (no parameters allowed)"
    # Bytes pipelined after STARTTLS came in the clear: they are dropped.
    r.send(b"STARTTLS\r\nMAIL FROM:<evil@example.org>\r\n")
    assert r.reply() == "220 2.0.0 ready to start TLS"
    r.starttls()
    assert r.cmd("NOOP") == "250 2.0.0 ok"  # the first reply is NOOP's, not MAIL's
    # Everything is forgotten: EHLO first; no STARTTLS any more.
    assert r.cmd("MAIL FROM:<a@example.org>") == "503 5.5.1 send EHLO first"
    assert "STARTTLS" not in keywords(r.cmd("EHLO client.example"))
    assert r.cmd("STARTTLS") == "503 5.5.1 TLS already active"
    reply = send_one(r, b"secret\r\n.\r\n")
    assert reply.startswith("250 2.0.0 ok ")
    [(msg, env)] = mx.queued()
    assert re.match(rb"Received: from localhost \(HELO client\.example\) \(127\.0\.0\.1\)\n"
                    rb"  by mx\.example\.test with ESMTPS \(TLS1\.[23] cipher [A-Z0-9_-]+\); "
                    + DATE + rb"\nsecret\n$", msg), msg


def test_starttls_with_smtplib_and_bad_certificate(mx, certificate):
    with_tls(mx, certificate)
    with mx.smtp() as s:
        s.ehlo("client.example")
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        s.starttls(context=ctx)
        s.ehlo("client.example")
        assert s.sendmail("a@example.org", ["joe@example.test"], b"tls\r\n") == {}
    assert len(mx.queued()) == 1
    mx.inst.write("control/servercert.pem", b"not a certificate\n", 0o600)
    r = mx.raw()
    assert r.cmd("STARTTLS") == "454 4.7.0 TLS not available due to temporary reason"
    assert r.cmd("NOOP") == "250 2.0.0 ok"


# --- AUTH --------------------------------------------------------------------

def test_auth_refused_in_plaintext(mx):
    with_checkpassword(mx)
    r = mx.raw()
    assert not any(k.startswith("AUTH") for k in keywords(r.cmd("EHLO x")))
    assert r.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==") == \
        "538 5.7.11 encryption required for requested authentication mechanism"


def test_auth_plain_and_login(mx):
    with_checkpassword(mx)
    mx.control("authplaintext", "1\n")
    with mx.smtp() as s:
        s.ehlo("client.example")
        assert s.has_extn("auth") and s.esmtp_features["auth"].split() == ["PLAIN", "LOGIN"]
        with pytest.raises(smtplib.SMTPAuthenticationError) as e:
            s.login("alice", "wrong")
        assert e.value.smtp_code == 535
    r = mx.raw()
    r.cmd("EHLO client.example")
    assert r.cmd("MAIL FROM:<a@example.org>") == "250 2.1.0 ok"
    assert r.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==") == \
        "503 5.5.1 AUTH not permitted during a mail transaction"
    assert r.cmd("RSET").startswith("250")
    assert r.cmd("AUTH CRAM-MD5") == "504 5.5.4 unrecognized authentication type"
    assert r.cmd("AUTH PLAIN") == "334 "
    assert r.cmd("*") == "501 5.0.0 authentication cancelled"
    assert r.cmd("AUTH PLAIN") == "334 "
    assert r.cmd("not base64!") == "501 5.5.2 cannot decode response"
    assert r.cmd("AUTH PLAIN AHRlbXBmYWlsAHg=") == "454 4.7.0 temporary authentication failure"
    assert r.cmd("AUTH LOGIN") == "334 VXNlcm5hbWU6"
    assert r.cmd("YWxpY2U=") == "334 UGFzc3dvcmQ6"
    assert r.cmd("c2VjcmV0") == "235 2.7.0 authentication successful"
    assert r.cmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==") == "503 5.5.1 already authenticated"
    # An authenticated client may relay; the Received line says ESMTPA.
    assert send_one(r, b"x\r\n.\r\n", rcpt="x@other.test").startswith("250 ")
    [(msg, env)] = mx.queued()
    assert env == b"Fa@example.org\0Tx@other.test\0\0"
    assert b" with ESMTPA; " in msg
    # PLAIN with the initial response on the next line.
    r = mx.raw()
    assert r.cmd("AUTH PLAIN") == "334 "
    assert r.cmd("AGFsaWNlAHNlY3JldA==") == "235 2.7.0 authentication successful"
    # swaks with LOGIN.
    r = subprocess.run(["swaks", "--server", f"127.0.0.1:{mx.port}", "--auth", "LOGIN",
                        "--auth-user", "alice", "--auth-password", "secret",
                        "--from", "alice@example.test", "--to", "y@other.test",
                        "--body", "by swaks"], capture_output=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert mx.queued()[1][1] == b"Falice@example.test\0Ty@other.test\0\0"


def test_auth_failures_are_capped(mx):
    with_checkpassword(mx)
    mx.control("authplaintext", "1\n")
    r = mx.raw()
    assert r.cmd("AUTH PLAIN AGFsaWNlAHdyb25n") == "535 5.7.8 authentication failed"
    assert r.cmd("MAIL FROM:<a@example.org>") == "250 2.1.0 ok"
    assert r.cmd("RCPT TO:<x@other.test>").startswith("553 ")  # not authenticated
    r.cmd("RSET")
    assert r.cmd("AUTH LOGIN YWxpY2U=") == "334 UGFzc3dvcmQ6"
    assert r.cmd("d3Jvbmc=") == "535 5.7.8 authentication failed"
    assert r.cmd("AUTH PLAIN AGFsaWNlAHdyb25n") == "535 5.7.8 authentication failed"
    assert r.reply() == "421 4.7.0 too many authentication failures, closing connection"
    assert r.closed()


def test_auth_over_tls(mx, certificate):
    with_tls(mx, certificate)
    with_checkpassword(mx)
    r = mx.raw()
    assert not any(k.startswith("AUTH") for k in keywords(r.cmd("EHLO x")))
    with mx.smtp() as s:
        s.ehlo("client.example")
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s.starttls(context=ctx)
        s.ehlo("client.example")
        assert s.esmtp_features["auth"].split() == ["PLAIN", "LOGIN"]
        s.login("alice", "secret")
        assert s.sendmail("alice@example.test", ["x@other.test"], b"relayed\r\n") == {}
    [(msg, env)] = mx.queued()
    assert env == b"Falice@example.test\0Tx@other.test\0\0"
    assert re.search(rb"  by mx\.example\.test with ESMTPSA \(TLS1\.[23] cipher [A-Z0-9_-]+\); ",
                     msg), msg


def test_implicit_tls(mx, certificate):
    with_tls(mx, certificate)
    mx.env["SMTPS"] = "1"
    r = Raw(mx.port)
    r.starttls()
    assert r.reply() == f"220 {GREETING} ESMTP"
    assert "STARTTLS" not in keywords(r.cmd("EHLO x"))
    assert send_one(r, b"x\r\n.\r\n").startswith("250 ")
    assert b" with ESMTPS (TLS1." in mx.queued()[0][0]
