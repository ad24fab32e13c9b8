# test_open_relay.py: proofs that a started instance is no open relay.
# qmailctl starts qmail-send and the SMTP listener (tcpserver, qmail-smtpd);
# control/tcp.smtp is `:allow` (no RELAYCLIENT for anybody), rcpthosts lists
# the instance's own domains, and control/smtproutes sends every remote
# domain to Postfix's smtp-sink on loopback. Every classic relay trick is
# tried in its own connection; whatever qmail-smtpd accepts is sent, the
# queue is waited for until empty, and the sink must have got nothing. Two
# controls (AUTH, RELAYCLIENT) prove the sink sees a relay when there is one.
import base64
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import free_port

SMTP_SINK = "/usr/sbin/smtp-sink"
WAIT = 30  # seconds: the bound on every wait
NOT_RCPTHOST = "553 5.7.1 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)"
NO_MAILBOX = "550 5.1.1 sorry, no mailbox here by that name"


class Client:
    """A byte-exact SMTP client on one connection."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
        self.buf = b""

    def reply(self):
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
        self.s.sendall(line.encode() + b"\r\n")
        return self.reply()

    def close(self):
        self.s.close()


def queue_files(inst, sub):
    top = os.path.join(inst.path, "queue", sub)
    return [n for s in os.listdir(top) for n in os.listdir(os.path.join(top, s))]


def queue_settled(inst):
    """Waits (bounded) until qmail-send has finished every message: nothing
    in mess/, info/, local/ or remote/."""
    inst.wait_for(lambda: not any(queue_files(inst, d)
                                  for d in ("mess", "info", "local", "remote")),
                  timeout=WAIT, what="qmail-send to empty the queue")


def sink_files(d):
    return sorted(os.listdir(d))


@pytest.fixture
def sink(test_user):
    """smtp-sink on a free loopback port, capturing each message into a
    directory; run as the test user when the tests run as root."""
    d = tempfile.mkdtemp(prefix="qng-sink-", dir="/tmp")
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
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def relay_host(make_instance, sink):
    """A started instance (me = example.test) with user joe; no RELAYCLIENT
    for anyone; every remote domain routed to the sink. Returns (inst,
    smtp port, sink dir)."""
    sink_dir, sink_port = sink
    port = free_port()
    inst = make_instance(me="example.test", args=["--smtp", f"127.0.0.1:{port}"])
    inst.joe = inst.add_user("joe")
    inst.write("control/rcpthosts", "example.test\nlocalhost\n")
    inst.write("control/smtproutes", f":127.0.0.1:{sink_port}\n")
    inst.write("control/timeoutconnect", "5\n")
    inst.write("control/timeoutremote", "10\n")
    inst.write("control/tcp.smtp", ":allow\n")
    inst.ctl("cdb")
    inst.ctl("start", timeout=60)
    yield inst, port, sink_dir
    inst.ctl("stop", check=False, timeout=60)


def attempt(port, rcpt, sender="joe@example.test", auth=None):
    """One connection: MAIL, RCPT rcpt and, when accepted, DATA. Returns the
    RCPT reply."""
    c = Client(port)
    try:
        assert c.reply().startswith("220 ")
        assert c.cmd("EHLO client.test").startswith("250")
        if auth:
            assert c.cmd(f"AUTH PLAIN {auth}") == "235 2.7.0 authentication successful"
        assert c.cmd(f"MAIL FROM:<{sender}>") == "250 2.1.0 ok"
        reply = c.cmd(f"RCPT TO:<{rcpt}>")
        if reply.startswith("2"):
            assert c.cmd("DATA") == "354 go ahead"
            c.s.sendall(f"Subject: relay test {rcpt}\r\n\r\nrelay?\r\n.\r\n".encode())
            assert c.reply().startswith("250 2.0.0 ok ")
        c.cmd("QUIT")
        return reply
    finally:
        c.close()


def joe_messages(inst):
    return inst.maildir_messages(os.path.join(inst.joe, "Maildir"))


# Each trick and its RCPT reply with control/rcptcheck 1 (the default) and
# with 0 (qmail's: accept every local part, bounce later). A tuple: any of
# these. "250 local" means accepted, and delivered or bounced locally.
TRICKS = [
    # the plain case first: the baseline refusal
    ("user@remote.test", NOT_RCPTHOST, NOT_RCPTHOST),
    # the percent hack, without control/percenthack: a local part
    ("user%remote.test@example.test", NO_MAILBOX, "250 2.1.5 ok"),
    ("user%remote.test", NO_MAILBOX, "250 2.1.5 ok"),
    # a quoted local part holding an @
    ('"user@remote.test"@example.test', NO_MAILBOX, "250 2.1.5 ok"),
    # source routes: qmail drops the route, the mailbox decides
    ("@example.test:user@remote.test", NOT_RCPTHOST, NOT_RCPTHOST),
    ("@example.test,@localhost:user@remote.test", NOT_RCPTHOST, NOT_RCPTHOST),
    # bang paths: a local part
    ("remote.test!user@example.test", NO_MAILBOX, "250 2.1.5 ok"),
    ("remote.test!user", NO_MAILBOX, "250 2.1.5 ok"),
    # address literals: ours become localiphost; others are not rcpthosts
    ("user@[127.0.0.1]", NO_MAILBOX, "250 2.1.5 ok"),
    ("user@[IPv6:::1]", (NO_MAILBOX, NOT_RCPTHOST), ("250 2.1.5 ok", NOT_RCPTHOST)),
    ("user@[192.0.2.1]", NOT_RCPTHOST, NOT_RCPTHOST),
    ("user@[IPv6:2001:db8::1]", NOT_RCPTHOST, NOT_RCPTHOST),
    # trailing dots
    ("user@remote.test.", NOT_RCPTHOST, NOT_RCPTHOST),
    ("user@example.test.", NOT_RCPTHOST, NOT_RCPTHOST),
    # case
    ("joe@EXAMPLE.TEST", "250 2.1.5 ok", "250 2.1.5 ok"),
    ("user@Remote.Test", NOT_RCPTHOST, NOT_RCPTHOST),
    # more than one @: the last one separates the domain
    ("user@remote.test@example.test", NO_MAILBOX, "250 2.1.5 ok"),
    ("user@example.test@remote.test", NOT_RCPTHOST, NOT_RCPTHOST),
    # empty and odd domains
    ("user@", NOT_RCPTHOST, NOT_RCPTHOST),
    ("user@.", NOT_RCPTHOST, NOT_RCPTHOST),
    ("user@.example.test", NOT_RCPTHOST, NOT_RCPTHOST),
]


def check_reply(got, want, rcpt):
    wants = want if isinstance(want, tuple) else (want,)
    assert got in wants, (rcpt, got)


@pytest.mark.parametrize("rcptcheck", ["1", "0"])
def test_relay_tricks_never_reach_the_sink(relay_host, rcptcheck):
    inst, port, sink_dir = relay_host
    inst.write("control/rcptcheck", rcptcheck + "\n")
    for rcpt, want1, want0 in TRICKS:
        check_reply(attempt(port, rcpt), want1 if rcptcheck == "1" else want0, rcpt)
    queue_settled(inst)
    assert sink_files(sink_dir) == [], "relayed: " + repr(
        [open(os.path.join(sink_dir, n), "rb").read()[:2000] for n in sink_files(sink_dir)])
    # joe@EXAMPLE.TEST was delivered here, and (rcptcheck 0) the bounces
    # of the local parts nobody has came back to joe, not to the sink.
    subjects = [m for m in joe_messages(inst).values()
                if b"Subject: relay test joe@EXAMPLE.TEST" in m]
    assert len(subjects) == 1


@pytest.mark.parametrize("rcpt", ["user%remote.test@example.test", "user%remote.test",
                                  "user%remote.test%example.test@example.test",
                                  "user%remote.test@EXAMPLE.TEST"])
def test_percenthack_of_our_domain_is_no_relay(relay_host, rcpt):
    """control/percenthack lists our domain: qmail-send turns
    user%remote.test@example.test (and, with envnoathost, user%remote.test)
    into user@remote.test after acceptance and sends it out. Accepting it
    from anybody would make our own domain an open relay."""
    inst, port, sink_dir = relay_host
    inst.write("control/percenthack", "example.test\n")
    # qmail-send reads percenthack when it starts (HUP rereads only locals
    # and virtualdomains, as qmail's).
    inst.ctl("restart", timeout=90)
    replies = []
    for rcptcheck in ("1", "0"):
        inst.write("control/rcptcheck", rcptcheck + "\n")
        replies.append(attempt(port, rcpt))
    queue_settled(inst)
    assert sink_files(sink_dir) == [], f"relayed through our domain: {replies}"
    assert replies == [NOT_RCPTHOST, NOT_RCPTHOST]
    # The percent hack still works within our own domains.
    assert attempt(port, "joe%example.test@example.test") == "250 2.1.5 ok"
    inst.wait_for(lambda: joe_messages(inst), timeout=WAIT, what="delivery to joe")
    queue_settled(inst)
    assert sink_files(sink_dir) == []


def test_relay_with_auth_reaches_the_sink(relay_host):
    inst, port, sink_dir = relay_host
    inst.ctl("passwd", "joe@example.test", input="s3cret\n")
    inst.write("control/checkpassword", "bin/qmail-checkpassword\n")
    inst.write("control/authplaintext", "1\n")
    assert attempt(port, "user@remote.test") == NOT_RCPTHOST  # not yet logged in
    auth = base64.b64encode(b"\0joe@example.test\0s3cret").decode()
    assert attempt(port, "user@remote.test", auth=auth) == "250 2.1.5 ok"
    names = inst.wait_for(lambda: sink_files(sink_dir), timeout=WAIT, what="the sink")
    assert len(names) == 1
    with open(os.path.join(sink_dir, names[0]), "rb") as f:
        assert b"Subject: relay test user@remote.test" in f.read()
    queue_settled(inst)


def test_relay_with_relayclient_reaches_the_sink(relay_host):
    inst, port, sink_dir = relay_host
    inst.write("control/tcp.smtp", '127.0.0.1:allow,RELAYCLIENT=""\n:allow\n')
    inst.ctl("cdb")
    assert attempt(port, "user@remote.test") == "250 2.1.5 ok"
    names = inst.wait_for(lambda: sink_files(sink_dir), timeout=WAIT, what="the sink")
    assert len(names) == 1
    with open(os.path.join(sink_dir, names[0]), "rb") as f:
        assert b"Subject: relay test user@remote.test" in f.read()
    queue_settled(inst)
    # The percent hack on our domain relays for a relay client, as it should.
    inst.write("control/percenthack", "example.test\n")
    inst.ctl("restart", timeout=90)
    assert attempt(port, "other%remote.test@example.test") == "250 2.1.5 ok"
    inst.wait_for(lambda: len(sink_files(sink_dir)) == 2, timeout=WAIT, what="the sink")
    queue_settled(inst)
