# test_remote_path.py: the whole remote path on running instances:
# qmail-inject -> qmail-queue -> qmail-send -> qmail-rspawn -> qmail-remote
# -> a peer, the daemons started and stopped by qmailctl, control/smtproutes
# sending the test domains to 127.0.0.1 ports of peers this file starts:
# Postfix's smtp-sink (captures each message), a second qmail-ng instance
# (its qmailctl-started qmail-smtpd), and a scripted SMTP peer whose replies
# are set per test. Checked: the bytes the peers got, qmail-send's log
# lines, the queue's retry time, the DSN bounce, and DKIM by dkimpy.
import email
import email.policy
import math
import os
import re
import signal
import socket
import subprocess
import threading
import time

import dkim
import pytest

from conftest import free_port

SMTP_SINK = "/usr/sbin/smtp-sink"
WAIT = 30  # seconds: the bound on every wait for a delivery or a log line


# ---------------------------------------------------------------- helpers

@pytest.fixture
def inst(make_instance):
    """Instance A (me = example.test) with a local user alice; stopped."""
    i = make_instance(me="example.test")
    i.write("control/timeoutconnect", "5\n")
    i.write("control/timeoutremote", "10\n")
    i.alice = i.add_user("alice")
    return i


def send_log(inst):
    p = os.path.join(inst.path, "log", "qmail-send", "current")
    if not os.path.exists(p):
        return ""
    with open(p, "rb") as f:
        return f.read().decode(errors="replace")


def wait_log(inst, pattern, what=None):
    """Waits for a qmail-send log line matching pattern; returns the match."""
    rx = re.compile(pattern, re.M)
    return inst.wait_for(lambda: rx.search(send_log(inst)), timeout=WAIT,
                         what=what or f"log line {pattern!r}")


def inject(inst, args, text):
    r = inst.run(["qmail-inject", *args], input=text)
    assert r.returncode == 0, r.stderr.decode(errors="replace")


def queue_files(inst, sub):
    """{N: path} of queue/SUB/S/N."""
    out = {}
    top = os.path.join(inst.path, "queue", sub)
    for s in os.listdir(top):
        for n in os.listdir(os.path.join(top, s)):
            out[int(n)] = os.path.join(top, s, n)
    return out


def queued_message(inst):
    """The one message in the queue (mess/S/N), as stored."""
    (path,) = queue_files(inst, "mess").values()
    with open(path, "rb") as f:
        return f.read()


def queue_empty(inst):
    return inst.wait_for(lambda: not queue_files(inst, "mess") and not queue_files(inst, "info"),
                         timeout=WAIT, what="an empty queue")


def new_messages(maildir):
    d = os.path.join(maildir, "new")
    out = []
    for n in sorted(os.listdir(d)):
        with open(os.path.join(d, n), "rb") as f:
            out.append(f.read())
    return out


def wait_messages(inst, maildir, count):
    return inst.wait_for(lambda: (lambda m: m if len(m) >= count else None)(new_messages(maildir)),
                         timeout=WAIT, what=f"{count} message(s) in {maildir}")


def log_text(text):
    """A report text as qmail-send logs it: space and % as _, LF as /."""
    return text.replace(" ", "_").replace("%", "_").replace("\n", "/")


@pytest.fixture
def sink(inst, test_user):
    """Postfix's smtp-sink on a free port, capturing each message into DIR,
    run as the test user when the tests run as root."""
    d = os.path.join(inst.root, "sink")
    os.mkdir(d)
    os.chmod(d, 0o777)
    port = free_port()
    args = [SMTP_SINK, "-d", d + "/%M.", f"127.0.0.1:{port}", "100"]
    if os.geteuid() == 0:
        args[1:1] = ["-u", test_user.name]
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + WAIT
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.time() < deadline, "smtp-sink did not start"
                assert p.poll() is None, "smtp-sink exited"
                time.sleep(0.05)
        yield d, port
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(WAIT)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def sink_messages(d):
    out = []
    for name in sorted(os.listdir(d)):
        with open(os.path.join(d, name), "rb") as f:
            out.append(f.read())
    return out


def sink_split(capture):
    """smtp-sink's capture: (its own header lines, the message as received
    with LF line ends and the dots unstuffed). smtp-sink's three-line
    Received field ends its headers; it adds one empty line at the end."""
    head, sep, rest = capture.partition(b"Received: ")
    assert sep, capture[:300]
    lines = rest.split(b"\n")
    message = b"\n".join(lines[3:])
    assert message.endswith(b"\n\n")
    return head, message[:-1]


class Peer:
    """A scripted SMTP server on 127.0.0.1, one connection at a time. rcpt:
    the replies to the RCPT commands, in order across every connection;
    past the list, 250. Records each session's commands and message."""

    def __init__(self, rcpt=()):
        self.rcpt = list(rcpt)
        self.sessions = []  # [{"lines": [...], "data": bytes or None}]
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def close(self):
        self.stopping = True
        self.thread.join(WAIT)
        self.sock.close()

    def snapshot(self):
        with self.lock:
            return [dict(s) for s in self.sessions]

    def _serve(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            s = {"lines": [], "data": None, "done": False}
            with self.lock:
                self.sessions.append(s)
            try:
                self._session(conn, s)
            except (OSError, ValueError):
                pass
            finally:
                conn.close()
                with self.lock:
                    s["done"] = True

    def _session(self, conn, s):
        conn.settimeout(WAIT)
        f = conn.makefile("rb")

        def say(text):
            conn.sendall(text + b"\r\n")

        say(b"220 peer.example ESMTP")
        while True:
            line = f.readline(65536)
            if not line:
                raise ValueError("eof")
            with self.lock:
                s["lines"].append(line)
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                say(b"250 peer.example")
            elif verb == b"MAIL":
                say(b"250 2.1.0 ok")
            elif verb == b"RCPT":
                with self.lock:
                    reply = self.rcpt.pop(0) if self.rcpt else b"250 2.1.5 ok"
                say(reply)
            elif verb == b"DATA":
                say(b"354 go ahead")
                data = b""
                while not data.endswith(b"\r\n.\r\n"):
                    chunk = f.readline(65536)
                    if not chunk:
                        raise ValueError("eof in data")
                    data += chunk
                with self.lock:
                    s["data"] = data
                say(b"250 2.0.0 queued as 1")
            elif verb == b"QUIT":
                say(b"221 2.0.0 bye")
                return
            else:
                say(b"502 5.5.2 unknown command")


@pytest.fixture
def peer():
    made = []

    def make(**kw):
        p = Peer(**kw)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()


class Dns:
    """TXT records from qmail-dkim keygen's output, as dkimpy's dnsfunc."""

    def __init__(self):
        self.records = {}

    def add(self, output):
        name, txt = output.decode().strip().split(" IN TXT ", 1)
        self.records[name.encode()] = "".join(re.findall(r'"([^"]*)"', txt)).encode()

    def __call__(self, name, timeout=5):
        return self.records.get(name)


def dkim_tags(msg):
    """The tags of each DKIM-Signature field of msg (CRLF), in order."""
    out = []
    for m in re.finditer(rb"^DKIM-Signature:(.*(?:\r\n[ \t].*)*)\r\n", msg, re.M):
        value = re.sub(rb"\s+", b"", m.group(1))
        out.append(dict(t.split(b"=", 1) for t in value.split(b";") if t))
    return out


def dkim_verify_all(msg, dns):
    """dkimpy's verdict on each signature of msg (CRLF line ends)."""
    results = []
    for i in range(len(dkim_tags(msg))):
        try:
            results.append(bool(dkim.DKIM(msg).verify(idx=i, dnsfunc=dns)))
        except dkim.ValidationError:  # the body hash does not match
            results.append(False)
    return results


# ---------------------------------------------------------------- (a) smtp-sink

MESSAGE = ("From: Alice <alice@example.test>\n"
           "To: bob@example.net\n"
           "Subject: over the wire\n"
           "\n"
           ".a line with a leading dot\n"
           "..and two\n"
           ".\n"
           "caf\u00e9 8-bit\n"
           "the end\n")


def test_delivery_to_smtp_sink(inst, sink):
    d, port = sink
    inst.write("control/smtproutes", f"example.net:127.0.0.1:{port}\n")
    # Queued while qmail-send is down, so the stored bytes can be read.
    inject(inst, ["-falice@example.test", "bob@example.net"], MESSAGE)
    stored = queued_message(inst)
    assert b"\n.a line with a leading dot\n" in stored
    inst.ctl("start")
    try:
        m = wait_log(inst, r"^@\S+ delivery (\d+): success: (.*)$")
        n = m.group(1)
        assert m.group(2) == ("127.0.0.1_accepted_message./"
                              "Remote_host_said:_250_2.0.0_Ok/")
        assert re.search(rf"^@\S+ starting delivery {n}: msg \d+ to remote bob@example.net$",
                         send_log(inst), re.M)
        wait_log(inst, r"end msg \d+")
        queue_empty(inst)
    finally:
        inst.ctl("stop")
    (capture,) = sink_messages(d)
    head, message = sink_split(capture)
    assert message == stored  # byte for byte, the dots unstuffed by smtp-sink
    assert b"X-Client-Addr: 127.0.0.1\n" in head
    assert b"X-Helo-Args: example.test\n" in head
    assert b"X-Mail-Args: <alice@example.test> BODY=8BITMIME\n" in head
    assert b"X-Rcpt-Args: <bob@example.net>\n" in head


# ---------------------------------------------------------------- (b) qmail-ng to qmail-ng

def test_delivery_to_a_second_instance(inst, make_instance):
    port = free_port()
    b = make_instance(me="b.test", args=["--smtp", f"127.0.0.1:{port}"])
    bob = b.add_user("bob")
    inst.write("control/smtproutes", f"b.test:127.0.0.1:{port}\n")
    b.ctl("start")
    inst.ctl("start")
    try:
        inject(inst, ["-falice@example.test", "bob@b.test"],
               "From: alice@example.test\nTo: bob@b.test\nSubject: hop\n\nacross\n")
        (msg,) = wait_messages(b, bob + "/Maildir", 1)
        m = wait_log(inst, r"delivery \d+: success: 127.0.0.1_accepted_message./"
                           r"Remote_host_said:_250_(.*)$")
        assert "ok" in m.group(1)
        wait_log(inst, r"end msg \d+")
    finally:
        inst.ctl("stop")
        b.ctl("stop")
    head, _, body = msg.partition(b"\n\n")
    assert body == b"across\n"
    lines = head.split(b"\n")
    assert lines[0] == b"Return-Path: <alice@example.test>"
    assert lines[1] == b"Delivered-To: bob@b.test"
    received = [l for l in lines if l.startswith(b"Received: ")]
    # B's qmail-queue, B's qmail-smtpd, then A's qmail-queue.
    assert len(received) == 3, head
    # (An unprivileged instance has no qmaild: "by uid", not "from network".)
    assert re.fullmatch(rb"Received: \(qmail \d+ invoked (from network|by uid \d+)\); .*",
                        received[0]), received[0]
    assert re.match(rb"Received: from \S+ \(HELO example\.test\) \(127\.0\.0\.1\)$",
                    received[1]), received[1]
    i = lines.index(received[1])
    assert b"by b.test with " in b"\n".join(lines[i:i + 3])
    assert re.fullmatch(rb"Received: \(qmail \d+ invoked by uid \d+\); .*", received[2])
    assert b"Subject: hop" in lines


# ---------------------------------------------------------------- (c) retry

def test_temporary_failure_is_retried(inst, peer):
    p = peer(rcpt=[b"451 4.3.0 try later"])
    inst.write("control/smtproutes", f"example.net:127.0.0.1:{p.port}\n")
    inst.ctl("start")
    try:
        inject(inst, ["-falice@example.test", "bob@example.net"],
               "Subject: again\n\nsecond time lucky\n")
        m = wait_log(inst, r"delivery (\d+): deferral: (.*)$")
        t1 = time.time()
        assert m.group(2) == log_text("127.0.0.1 does not like recipient.\n"
                                      "Remote host said: 451 4.3.0 try later\n"
                                      "Giving up on 127.0.0.1.\n"
                                      "Remote host said: 451 4.3.0 try later\n")
        (info,) = queue_files(inst, "info").values()
        (remote,) = queue_files(inst, "remote").values()
        birth = int(os.stat(info).st_mtime)
    finally:
        inst.ctl("stop")  # TERM: qmail-send writes the next retry time
    assert "status: exiting" in send_log(inst)
    # remote/S/N's mtime: birth + (floor(sqrt(age)) + 20)^2 for the age at
    # the first pass, which was between 0 and t1 - birth.
    after = int(os.stat(remote).st_mtime) - birth
    kmax = math.isqrt(math.ceil(max(0.0, t1 - birth)))
    assert after in [(k + 20) ** 2 for k in range(kmax + 1)], (after, kmax)
    sessions = p.snapshot()
    assert len(sessions) == 1 and sessions[0]["data"] is None

    # Started again, the message waits for its time (about 400 s away);
    # doqueue (ALRM) makes it due now.
    inst.ctl("start")
    try:
        wait_log(inst, r"(?s)status: exiting.*status: local")
        time.sleep(1)
        assert len(p.snapshot()) == 1
        assert len(re.findall(r"starting delivery", send_log(inst))) == 1
        inst.ctl("doqueue")
        m = wait_log(inst, r"delivery (\d+): success: (.*)$")
        assert m.group(2) == log_text("127.0.0.1 accepted message.\n"
                                      "Remote host said: 250 2.0.0 queued as 1\n")
        wait_log(inst, r"end msg \d+")
        queue_empty(inst)
    finally:
        inst.ctl("stop")
    # Delivered once.
    sessions = p.snapshot()
    assert [s["data"] is not None for s in sessions] == [False, True]
    assert sessions[1]["data"].endswith(b"\r\nsecond time lucky\r\n.\r\n")
    assert len(re.findall(r"starting delivery", send_log(inst))) == 2


# ---------------------------------------------------------------- (d) bounce

def test_permanent_failure_bounces_as_dsn(inst, peer):
    p = peer(rcpt=[b"550 5.1.1 no such user here"])
    inst.write("control/smtproutes", f"example.net:127.0.0.1:{p.port}\n")
    inst.ctl("start")
    try:
        inject(inst, ["-falice@example.test", "bob@example.net"],
               "From: alice@example.test\nSubject: doomed\n\nnever arrives\n")
        (raw,) = wait_messages(inst, inst.alice + "/Maildir", 1)
        m = wait_log(inst, r"delivery \d+: failure: (.*)$")
        assert m.group(1) == log_text("127.0.0.1 does not like recipient.\n"
                                      "Remote host said: 550 5.1.1 no such user here\n"
                                      "Giving up on 127.0.0.1.\n"
                                      "Remote host said: 550 5.1.1 no such user here\n")
        wait_log(inst, r"bounce msg \d+ qp \d+")
    finally:
        inst.ctl("stop")
    assert raw.startswith(b"Return-Path: <>\nDelivered-To: alice@example.test\n")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    assert msg["To"] == "alice@example.test"
    text, status, original = msg.get_payload()
    assert text.get_content_type() == "text/plain"
    assert "Hi. This is the qmail-send program at example.test." in text.get_content()
    assert status.get_content_type() == "message/delivery-status"
    per_message, per_rcpt = status.get_payload()
    assert per_message["Reporting-MTA"] == "dns; example.test"
    assert per_rcpt["Final-Recipient"] == "rfc822; bob@example.net"
    assert per_rcpt["Action"] == "failed"
    assert re.fullmatch(r"5\.\d{1,3}\.\d{1,3}", per_rcpt["Status"])
    assert per_rcpt["Status"] == "5.1.1"
    assert per_rcpt["Remote-MTA"] == "dns; 127.0.0.1"
    assert per_rcpt["Diagnostic-Code"].startswith("smtp; 550 5.1.1 no such user here")
    assert original.get_content_type() == "message/rfc822"
    (orig,) = original.get_payload()
    assert orig["Subject"] == "doomed"
    # The peer never got the message.
    assert [s["data"] for s in p.snapshot()] == [None]


# ---------------------------------------------------------------- (e) DKIM

def test_dkim_signed_on_the_full_path(inst, sink):
    d, port = sink
    dns = Dns()
    for args in ((), ("ed25519",)):
        r = inst.run(["qmail-dkim", "keygen", "example.test", *args])
        assert r.returncode == 0, r.stderr
        dns.add(r.stdout)
    inst.write("control/smtproutes", f"example.net:127.0.0.1:{port}\n")
    inject(inst, ["-falice@example.test", "bob@example.net"], MESSAGE)
    stored = queued_message(inst)
    inst.ctl("start")
    try:
        wait_log(inst, r"delivery \d+: success: 127.0.0.1_accepted_message")
        wait_log(inst, r"end msg \d+")
    finally:
        inst.ctl("stop")
    (capture,) = sink_messages(d)
    _, message = sink_split(capture)
    # The DKIM-Signature fields, then the message as stored.
    assert message.startswith(b"DKIM-Signature: ")
    assert message.endswith(stored)
    fields = message[:-len(stored)]
    assert len(re.findall(rb"^DKIM-Signature: ", fields, re.M)) == 2
    wire = message.replace(b"\n", b"\r\n")
    assert [(t[b"a"], t[b"d"]) for t in dkim_tags(wire)] == [
        (b"rsa-sha256", b"example.test"), (b"ed25519-sha256", b"example.test")]
    assert dkim_verify_all(wire, dns) == [True, True]
    # The check can fail: a changed body byte does not verify.
    assert dkim_verify_all(wire.replace(b"the end", b"the End"), dns) == [False, False]
