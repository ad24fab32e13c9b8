# test_remote_qmtp.py: qmail-remote's QMTP client. qmail-remote run by hand
# against a QMTP peer of this file's own (control/qmtproutes; MXPS through
# a Debian unbound serving MX records with QMTP preferences): the exact
# package bytes, K/Z/D per recipient, a dropped connection, a refused one.
# Then two running qmail-ng instances: A sends to B's qmailctl-started
# qmail-qmtpd by qmtproutes; the message lands in B's Maildir with a
# "with QMTP" Received line, and an unknown user at B bounces to A's sender.
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import free_port

SMTP_SINK = "/usr/sbin/smtp-sink"
UNBOUND = "/usr/sbin/unbound"
WAIT = 30  # seconds: the bound on every wait

MESSAGE = (b"From: a@example.test\n"
           b"Subject: qmtp\n"
           b"\n"
           b".leading dot stays\n"
           b"crlf line\r\n"
           b"eight bit: caf\xc3\xa9\n"
           b"last line without LF")


def ns(b):
    return str(len(b)).encode() + b":" + b + b","


def package(message, sender, recipients):
    return ns(b"\n" + message) + ns(sender) + ns(b"".join(ns(r) for r in recipients))


def split_netstring(data):
    """(body, rest) of the netstring at the front of data, or None when
    it is not complete yet."""
    colon = data.find(b":")
    if colon < 0:
        return None
    n = int(data[:colon])
    if len(data) < colon + 2 + n:
        return None
    assert data[colon + 1 + n:colon + 2 + n] == b",", data
    return data[colon + 1:colon + 1 + n], data[colon + 2 + n:]


def package_complete(data):
    rest = data
    for _ in range(3):
        got = split_netstring(rest)
        if got is None:
            return False
        rest = got[1]
    assert rest == b"", rest  # one package per connection
    return True


class QmtpPeer:
    """A QMTP server on host:port, one connection at a time: reads one
    package, then answers `replies` (netstring bodies, one per recipient),
    or closes without a word when replies is None."""

    def __init__(self, replies, host="127.0.0.1", port=0):
        self.replies = replies
        self.received = []  # the bytes of each connection
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            with c:
                c.settimeout(WAIT)
                data = b""
                try:
                    while not package_complete(data):
                        b = c.recv(65536)
                        if not b:
                            break
                        data += b
                    self.received.append(data)
                    if self.replies is not None and package_complete(data):
                        c.sendall(b"".join(ns(r) for r in self.replies))
                except OSError:
                    self.received.append(data)

    def close(self):
        self.stop = True
        self.thread.join(WAIT)
        self.sock.close()


@pytest.fixture
def peers():
    made = []

    def make(*a, **kw):
        p = QmtpPeer(*a, **kw)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()


@pytest.fixture
def inst(make_instance):
    i = make_instance(me="example.test")
    i.write("control/timeoutconnect", "5\n")
    i.write("control/timeoutremote", "10\n")
    return i


def remote(inst, host, sender, recips, message=MESSAGE):
    """qmail-remote with fd 0 = a regular file, as qmail-rspawn runs it.
    Returns the records."""
    path = os.path.join(inst.root, "message")
    with open(path, "wb") as f:
        f.write(message)
    os.chmod(path, 0o644)
    with open(path, "rb") as f:
        r = inst.run(["qmail-remote", host, sender, *recips], stdin=f, timeout=WAIT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.endswith(b"\0"), r.stdout
    return r.stdout[:-1].split(b"\0")


# ---------------------------------------------------------------- by hand

def test_package_bytes_and_replies(inst, peers):
    p = peers([b"Kok 1700000000 qp 4242", b"Dsorry, no mailbox here by that name. (#5.1.1)",
               b"Ztry again later (#4.3.0)"])
    dead = free_port()  # nothing listens: smtproutes must not be used
    inst.write("control/smtproutes", f"example.net:127.0.0.1:{dead}\n")
    inst.write("control/qmtproutes", f".other.example:[192.0.2.1]\n"
                                     f"example.net:127.0.0.1:{p.port}\n")
    recs = remote(inst, "example.net", "s@example.test",
                  ["a@example.net", "b@example.net", "c@example.net"])
    assert recs == [
        b"r",
        b"h127.0.0.1 does not like recipient.\n"
        b"Remote host said: sorry, no mailbox here by that name. (#5.1.1)\n",
        b"s127.0.0.1 does not like recipient.\nRemote host said: try again later (#4.3.0)\n",
        b"K127.0.0.1 accepted message.\nRemote host said: ok 1700000000 qp 4242\n",
    ]
    (got,) = p.received
    assert got == package(MESSAGE, b"s@example.test",
                          [b"a@example.net", b"b@example.net", b"c@example.net"])


def test_every_recipient_refused(inst, peers):
    p = peers([b"Dno (#5.1.1)"])
    inst.write("control/qmtproutes", f":[127.0.0.1]:{p.port}\n")  # the empty key
    recs = remote(inst, "anywhere.example", "", ["x@anywhere.example"], b"Subject: s\n\nb\n")
    assert recs == [b"h127.0.0.1 does not like recipient.\nRemote host said: no (#5.1.1)\n",
                    b"DGiving up on 127.0.0.1.\nRemote host said: no (#5.1.1)\n"]
    (got,) = p.received
    assert got == package(b"Subject: s\n\nb\n", b"", [b"x@anywhere.example"])


def test_empty_qmtproutes_value_is_an_exception(inst, peers):
    # "domain:" in qmtproutes: not by QMTP; smtproutes decides (here: a
    # port where nothing listens, so the SMTP text shows which was used).
    p = peers([b"Kok"])
    dead = free_port()
    inst.write("control/qmtproutes", f"local.example:\n:127.0.0.1:{p.port}\n")
    inst.write("control/smtproutes", f"local.example:127.0.0.1:{dead}\n")
    recs = remote(inst, "local.example", "s@example.test", ["x@local.example"])
    assert recs == [b"ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n"]
    assert p.received == []


def test_dropped_connection_is_possible_duplicate(inst, peers):
    p = peers(None)
    inst.write("control/qmtproutes", f"example.net:127.0.0.1:{p.port}\n")
    recs = remote(inst, "example.net", "s@example.test", ["a@example.net"])
    assert recs == [b"ZConnected to 127.0.0.1 but connection died. "
                    b"Possible duplicate! (#4.4.2)\n"]
    (got,) = p.received
    assert got == package(MESSAGE, b"s@example.test", [b"a@example.net"])


def test_connection_refused(inst):
    port = free_port()
    inst.write("control/qmtproutes", f"example.net:127.0.0.1:{port}\n")
    recs = remote(inst, "example.net", "s@example.test", ["a@example.net"])
    assert recs == [b"ZSorry, I wasn't able to establish a QMTP connection. (#4.4.1)\n"]


def test_piped_message_is_spooled(inst, peers):
    p = peers([b"Kok"])
    inst.write("control/qmtproutes", f"example.net:127.0.0.1:{p.port}\n")
    r = inst.run(["qmail-remote", "example.net", "s@example.test", "a@example.net"],
                 input=MESSAGE, env={"TMPDIR": inst.root}, timeout=WAIT)
    assert r.stdout == b"r\0K127.0.0.1 accepted message.\nRemote host said: ok\n\0"
    assert p.received == [package(MESSAGE, b"s@example.test", [b"a@example.net"])]
    assert [n for n in os.listdir(inst.root) if n.startswith("qmail-remote.")] == []


def test_dkim_fields_lead_the_message(inst, peers):
    dkim = pytest.importorskip("dkim")
    r = inst.run(["qmail-dkim", "keygen", "example.test"])
    assert r.returncode == 0, r.stderr
    name, txt = r.stdout.decode().strip().split(" IN TXT ", 1)
    records = {name.encode(): "".join(re.findall(r'"([^"]*)"', txt)).encode()}
    p = peers([b"Kok"])
    inst.write("control/qmtproutes", f"example.net:127.0.0.1:{p.port}\n")
    message = (b"From: Alice <alice@example.test>\nTo: bob@example.net\n"
               b"Subject: signed\nMessage-ID: <q.1@example.test>\n\n.dot\nbody\n")
    recs = remote(inst, "example.net", "alice@example.test", ["bob@example.net"], message)
    assert recs == [b"r", b"K127.0.0.1 accepted message.\nRemote host said: ok\n"]
    (got,) = p.received
    body, rest = split_netstring(got)
    assert rest == ns(b"alice@example.test") + ns(ns(b"bob@example.net"))
    assert body.startswith(b"\nDKIM-Signature: ") and body.endswith(b"\n" + message)
    fields = body[1:-len(message)]
    assert got == package(fields + message, b"alice@example.test", [b"bob@example.net"])
    signed = (fields + message).replace(b"\n", b"\r\n")
    dns = lambda n, timeout=5: records.get(n)  # noqa: E731
    assert dkim.DKIM(signed).verify(dnsfunc=dns)
    with pytest.raises(dkim.ValidationError):  # a changed body byte: the hash differs
        dkim.DKIM(signed.replace(b"body", b"b0dy")).verify(dnsfunc=dns)


# ---------------------------------------------------------------- MXPS (unbound)

ZONES = """
    local-zone: "test." static
    local-data: "mxps.test. MX 12801 mx.mxps.test."
    local-data: "mx.mxps.test. A 127.0.0.209"
    local-data: "fallback.test. MX 12817 mx.fallback.test."
    local-data: "mx.fallback.test. A 127.0.0.210"
    local-data: "plain.test. MX 12800 mx.plain.test."
    local-data: "mx.plain.test. A 127.0.0.211"
"""


def dns_ready(port):
    q = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04mxps\x04test\x00\x00\x0f\x00\x01"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.5)
        s.sendto(q, ("127.0.0.1", port))
        try:
            return (s.recv(4096)[3] & 0x0F) == 0
        except socket.timeout:
            return False


@pytest.fixture
def unbound(test_user):
    if os.geteuid() != 0:
        pytest.skip("MXPS uses port 209: the QMTP peer needs root to listen there")
    if not os.path.exists(UNBOUND):
        pytest.skip("no unbound")
    d = tempfile.mkdtemp(prefix="qng-unbound-", dir="/tmp")
    os.chmod(d, 0o755)
    port = free_port()
    conf = os.path.join(d, "unbound.conf")
    with open(conf, "w") as f:
        f.write(f"""server:
    interface: 127.0.0.1
    port: {port}
    do-ip6: no
    username: ""
    chroot: ""
    directory: "{d}"
    pidfile: ""
    use-syslog: no
    logfile: ""
    verbosity: 0
    access-control: 127.0.0.0/8 allow
    module-config: "iterator"
    num-threads: 1
{ZONES}
remote-control:
    control-enable: no
""")
    os.chmod(conf, 0o644)

    def demote():
        os.setgroups([])
        os.setgid(test_user.gid)
        os.setuid(test_user.uid)

    p = subprocess.Popen([UNBOUND, "-d", "-c", conf], preexec_fn=demote,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + WAIT
        while not dns_ready(port):
            assert p.poll() is None, "unbound exited"
            assert time.time() < deadline, "unbound did not answer"
            time.sleep(0.05)
        yield port
    finally:
        p.terminate()
        try:
            p.wait(WAIT)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def sink(inst):
    """smtp-sink on 127.0.0.210 and .211 at one free port."""
    port = free_port()
    procs = []
    try:
        for a in ("127.0.0.210", "127.0.0.211"):
            procs.append(subprocess.Popen([SMTP_SINK, "-u", inst.user.name, f"{a}:{port}", "10"],
                                          stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))
        for a in ("127.0.0.210", "127.0.0.211"):
            deadline = time.time() + WAIT
            while True:
                try:
                    socket.create_connection((a, port), timeout=1).close()
                    break
                except OSError:
                    assert time.time() < deadline, "smtp-sink did not start"
                    time.sleep(0.05)
        yield port
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(WAIT)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def test_mxps(inst, unbound, peers, sink):
    inst.write("control/dnsservers", f"127.0.0.1@{unbound}\n")
    # SMTP by MX to the sink's port (smtproutes ::port); QMTP always 209.
    inst.write("control/smtproutes",
               f"mxps.test::{sink}\nfallback.test::{sink}\nplain.test::{sink}\n")
    q = peers([b"Kok mxps"], host="127.0.0.209", port=209)
    # 12801 (slice 1): QMTP to port 209.
    recs = remote(inst, "mxps.test", "s@example.test", ["a@mxps.test"])
    assert recs == [b"r", b"K127.0.0.209 accepted message.\nRemote host said: ok mxps\n"]
    assert q.received == [package(MESSAGE, b"s@example.test", [b"a@mxps.test"])]
    # 12817 (slice 1) but nothing on port 209: SMTP at the same address.
    recs = remote(inst, "fallback.test", "s@example.test", ["a@fallback.test"])
    assert recs[-1].startswith(b"K127.0.0.210 accepted message.\nRemote host said: 250"), recs
    # 12800 (slice 0): SMTP only.
    recs = remote(inst, "plain.test", "s@example.test", ["a@plain.test"])
    assert recs[-1].startswith(b"K127.0.0.211 accepted message.\nRemote host said: 250"), recs
    assert len(q.received) == 1


# ---------------------------------------------------------------- two instances

def send_log(inst):
    p = os.path.join(inst.path, "log", "qmail-send", "current")
    if not os.path.exists(p):
        return b""
    with open(p, "rb") as f:
        return f.read()


def new_messages(maildir):
    d = os.path.join(maildir, "new")
    out = []
    for n in sorted(os.listdir(d)):
        with open(os.path.join(d, n), "rb") as f:
            out.append(f.read())
    return out


def test_qmtp_between_two_instances(make_instance):
    aport, bport = free_port(), free_port()
    a = make_instance(me="example.test", args=["--qmtp", f"127.0.0.1:{aport}"])
    b = make_instance(me="b.test", args=["--qmtp", f"127.0.0.1:{bport}"])
    for i in (a, b):
        i.write("control/timeoutconnect", "5\n")
        i.write("control/timeoutremote", "10\n")
    alice = a.add_user("alice")
    bob = b.add_user("bob")
    a.write("control/qmtproutes", f"b.test:127.0.0.1:{bport}\n")
    # Should B accept the unknown user and bounce later, its bounce comes
    # back to A by QMTP too.
    b.write("control/qmtproutes", f"example.test:127.0.0.1:{aport}\n")
    b.ctl("start")
    a.ctl("start")
    try:
        r = a.run(["qmail-inject", "-falice@example.test", "bob@b.test"],
                  input=b"From: alice@example.test\nTo: bob@b.test\nSubject: hop\n\nby qmtp\n")
        assert r.returncode == 0, r.stderr
        (msg,) = b.wait_for(lambda: new_messages(bob + "/Maildir") or None, timeout=WAIT,
                            what="the message in bob's Maildir")
        m = a.wait_for(lambda: re.search(rb"delivery \d+: success: 127.0.0.1_accepted_message./"
                                         rb"Remote_host_said:_ok_(\S*)", send_log(a)),
                       timeout=WAIT, what="A's success line")
        assert re.match(rb"\d+_qp_\d+/$", m.group(1)), m.group(0)

        r = a.run(["qmail-inject", "-falice@example.test", "nobody@b.test"],
                  input=b"From: alice@example.test\nTo: nobody@b.test\nSubject: lost\n\nx\n")
        assert r.returncode == 0, r.stderr
        (bounce,) = a.wait_for(lambda: new_messages(alice + "/Maildir") or None, timeout=WAIT,
                               what="the bounce in alice's Maildir")
    finally:
        a.ctl("stop")
        b.ctl("stop")
    head, _, body = msg.partition(b"\n\n")
    assert body == b"by qmtp\n"
    lines = head.split(b"\n")
    assert lines[0] == b"Return-Path: <alice@example.test>"
    assert lines[1] == b"Delivered-To: bob@b.test"
    # B's qmail-qmtpd's line, between B's and A's qmail-queue lines.
    received = re.findall(rb"\nReceived: [^\n]*(?:\n [^\n]*)*", b"\n" + head)
    assert len(received) == 3, head
    assert re.fullmatch(rb"\nReceived: from \S+ \(127\.0\.0\.1\)\n  by b\.test with QMTP; .*",
                        received[1]), received
    assert b"Subject: hop" in lines
    assert b"nobody@b.test" in bounce
    assert re.search(rb"no mailbox|does not like recipient|Sorry", bounce), bounce
