# test_remote.py: qmail-remote, qmail-tcpto and qmail-tcpok on a real
# instance, run as the instance's user, against real peers: Postfix's
# smtp-sink, an SMTP peer of this file's own (scripted replies, STARTTLS
# with a certificate made by the openssl command, AUTH), and a Debian
# unbound server holding the test zones. Checked: the records qmail-remote
# prints (bytes), the bytes the peers received, the tcpto tables, and the
# DKIM signatures qmail-remote adds, verified by dkimpy.
import base64
import os
import re
import select
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import time

import dkim
import pytest

from conftest import free_port

SMTP_SINK = "/usr/sbin/smtp-sink"
UNBOUND = "/usr/sbin/unbound"
WAIT = 10  # seconds: the bound on every wait in the peers

MESSAGE = (b"From: a@example.test\n"
           b"Subject: test\n"
           b"\n"
           b".leading dot\n"
           b"..two dots\n"
           b"bare\rCR then .dot\r.after CR\n"
           b"eight bit: caf\xc3\xa9\n"
           b"crlf line\r\n"
           b"last line without LF")
# MESSAGE as it must go between DATA and the final dot: CRLF line ends, a
# bare CR is a line end, a dot doubled after every line end, CRLF added to
# the partial last line.
WIRE = (b"From: a@example.test\r\n"
        b"Subject: test\r\n"
        b"\r\n"
        b"..leading dot\r\n"
        b"...two dots\r\n"
        b"bare\r\nCR then .dot\r\n..after CR\r\n"
        b"eight bit: caf\xc3\xa9\r\n"
        b"crlf line\r\n"
        b"last line without LF\r\n"
        b".\r\n")


# ---------------------------------------------------------------- helpers

@pytest.fixture
def inst(make_instance):
    i = make_instance(me="example.test")
    i.write("control/timeoutconnect", "5\n")
    i.write("control/timeoutremote", "10\n")
    return i


def remote(inst, host, sender, recips, message=MESSAGE, timeout=60):
    """Runs qmail-remote as the instance user with fd 0 = a regular file
    (as qmail-rspawn gives it). Returns the records as a list of bytes."""
    path = os.path.join(inst.root, "message")
    with open(path, "wb") as f:
        f.write(message)
    os.chmod(path, 0o644)
    with open(path, "rb") as f:
        r = inst.run(["qmail-remote", host, sender, *recips], stdin=f, timeout=timeout)
    assert r.returncode == 0, r.stderr
    assert r.stdout.endswith(b"\0"), r.stdout
    return r.stdout[:-1].split(b"\0")


def route(inst, text):
    inst.write("control/smtproutes", text)


class Session:
    def __init__(self, addr):
        self.addr = addr          # the client's address
        self.lines = []           # every command line, as received
        self.data = b""           # the bytes after DATA, final dot included
        self.tls = None           # the TLS version used, if any
        self.pipelined = None     # RCPT already there when MAIL was read
        self.done = threading.Event()  # the peer has closed the connection


class Peer:
    """A scripted SMTP server on host:port, one connection at a time.

    replies: MAIL, RCPT (a list, one per RCPT), DATA, END (after the body),
    AUTH, HELO, EHLO (a full reply, else ehlo lists the keywords).
    tls: an ssl.SSLContext to do STARTTLS with, "fail" to answer 220 and
    then send junk. drop_after_data: close without a reply after the body."""

    def __init__(self, host="127.0.0.1", port=0, greeting=b"220 peer.example ESMTP",
                 ehlo=("PIPELINING", "SIZE 10000000", "8BITMIME"), replies=None, tls=None,
                 drop_after_data=False):
        self.greeting = greeting
        self.ehlo = list(ehlo)
        self.replies = dict(replies or {})
        self.tls = tls
        self.drop_after_data = drop_after_data
        self._sessions = []
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stop_flag = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def sessions(self):
        """The sessions so far, each one finished: qmail-remote may exit
        right after its QUIT, before this side has read it."""
        for x in list(self._sessions):
            assert x.done.wait(WAIT), "peer session did not end"
        return list(self._sessions)

    def close(self):
        self.stop_flag = True
        self.thread.join(WAIT)
        self.sock.close()

    def _serve(self):
        while not self.stop_flag:
            try:
                conn, addr = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            s = Session(addr[0])
            self._sessions.append(s)
            try:
                self._session(conn, s)
            except (OSError, ssl.SSLError, ValueError):
                pass
            finally:
                try:
                    conn.close()
                except OSError:
                    pass
                s.done.set()

    def _session(self, conn, s):
        conn.settimeout(WAIT)
        buf = bytearray()

        def readline():
            while b"\n" not in buf:
                chunk = conn.recv(65536)
                if not chunk:
                    raise ValueError("eof")
                buf.extend(chunk)
            i = buf.index(b"\n") + 1
            line = bytes(buf[:i])
            del buf[:i]
            return line

        def more_waiting(t):
            if buf:
                return True
            if isinstance(conn, ssl.SSLSocket) and conn.pending():
                return True
            return bool(select.select([conn], [], [], t)[0])

        def say(text):
            conn.sendall(text + b"\r\n")

        say(self.greeting)
        if not self.greeting.startswith(b"220"):
            readline()  # QUIT, or nothing
            return
        rcpt = list(self.replies.get("RCPT", []))
        while True:
            line = readline()
            s.lines.append(line)
            verb = line[:4].upper()
            if verb == b"EHLO":
                if "EHLO" in self.replies:
                    say(self.replies["EHLO"])
                    continue
                keys = list(self.ehlo)
                if self.tls is not None and s.tls is None:
                    keys.append("STARTTLS")
                out = [b"250-peer.example"] + [b"250-" + k.encode() for k in keys[:-1]]
                out += [b"250 " + keys[-1].encode()] if keys else []
                if not keys:
                    out = [b"250 peer.example"]
                conn.sendall(b"\r\n".join(out) + b"\r\n")
            elif verb == b"HELO":
                say(self.replies.get("HELO", b"250 peer.example"))
            elif verb == b"STAR":
                say(b"220 go ahead")
                if self.tls == "fail":
                    conn.recv(65536)  # the ClientHello
                    conn.sendall(b"this is not TLS at all\r\n" * 4)
                    return
                conn = self.tls.wrap_socket(conn, server_side=True)
                s.tls = conn.version()
            elif verb == b"AUTH":
                if line.upper().startswith(b"AUTH LOGIN"):
                    say(b"334 VXNlcm5hbWU6")
                    s.lines.append(readline())
                    say(b"334 UGFzc3dvcmQ6")
                    s.lines.append(readline())
                say(self.replies.get("AUTH", b"235 2.7.0 authenticated"))
            elif verb == b"MAIL":
                s.pipelined = more_waiting(0.5 if "PIPELINING" in self.ehlo else 0.3)
                say(self.replies.get("MAIL", b"250 2.1.0 sender ok"))
            elif verb == b"RCPT":
                say(rcpt.pop(0) if rcpt else b"250 2.1.5 recipient ok")
            elif verb == b"DATA":
                r = self.replies.get("DATA", b"354 go ahead")
                say(r)
                if not r.startswith(b"354"):
                    continue
                data = bytearray(buf)
                del buf[:]
                while not (data == b".\r\n" or data.endswith(b"\r\n.\r\n")):
                    chunk = conn.recv(65536)
                    if not chunk:
                        raise ValueError("eof in data")
                    data.extend(chunk)
                s.data = bytes(data)
                if self.drop_after_data:
                    return
                say(self.replies.get("END", b"250 2.0.0 queued"))
            elif verb == b"QUIT":
                say(b"221 bye")
                return
            else:
                say(b"502 5.5.2 unknown command")


@pytest.fixture
def peers():
    made = []

    def make(**kw):
        p = Peer(**kw)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()


def k_text(ip, said):
    return f"K{ip} accepted message.\nRemote host said: {said}\n".encode()


# ---------------------------------------------------------------- usage

def test_usage_is_a_d_record(inst):
    for args in ([], ["example.net"], ["example.net", "a@b"]):
        r = inst.run(["qmail-remote", *args], input=b"")
        assert r.returncode == 0
        assert r.stdout == b"DI (qmail-remote) was invoked improperly. (#5.3.5)\n\0"


def test_no_helohost_no_me(inst):
    os.unlink(os.path.join(inst.path, "control", "me"))
    assert remote(inst, "example.net", "a@b", ["x@example.net"]) == [
        b"ZUnable to read control files. (#4.3.0)\n"]


# ---------------------------------------------------------------- smtp-sink

@pytest.fixture
def sink(inst, test_user):
    """smtp-sink capturing each message into DIR, run as the test user."""
    d = os.path.join(inst.root, "sink")
    os.mkdir(d)
    os.chmod(d, 0o777)
    port = free_port()
    args = [SMTP_SINK, "-d", d + "/%M.", f"127.0.0.1:{port}", "10"]
    if os.geteuid() == 0:
        args[1:1] = ["-u", test_user.name]
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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


def test_smtp_sink_delivery(inst, sink):
    d, port = sink
    route(inst, f"example.net:127.0.0.1:{port}\n")
    recs = remote(inst, "example.net", "sender@example.test",
                  ["one@example.net", "two@example.net"])
    assert recs == [b"r", b"r", k_text("127.0.0.1", "250 2.0.0 Ok")]
    msgs = sink_messages(d)
    assert len(msgs) == 1
    head, sep, rest = msgs[0].partition(b"Received: ")
    assert sep
    assert b"X-Helo-Args: example.test\n" in head
    assert b"X-Client-Proto: ESMTP\n" in head
    # smtp-sink offers 8BITMIME (no SIZE): the 8-bit message says so.
    assert b"X-Mail-Args: <sender@example.test> BODY=8BITMIME\n" in head
    assert head.count(b"X-Rcpt-Args: ") == 2
    assert b"X-Rcpt-Args: <one@example.net>\n" in head
    assert b"X-Rcpt-Args: <two@example.net>\n" in head
    # smtp-sink stores lines with LF and the dots unstuffed, then an empty
    # line: what arrives is exactly the message with every break a line end.
    lines = rest.split(b"\n")
    body = b"\n".join(l for l in lines[3:])  # after the 3-line Received header
    want = (b"From: a@example.test\nSubject: test\n\n.leading dot\n..two dots\n"
            b"bare\nCR then .dot\n.after CR\neight bit: caf\xc3\xa9\ncrlf line\n"
            b"last line without LF\n\n")
    assert body == want


def test_smtp_sink_seven_bit_no_body_parameter(inst, sink):
    d, port = sink
    route(inst, f"example.net:[127.0.0.1]:{port}\n")
    recs = remote(inst, "example.net", "", ["one@example.net"], message=b"Subject: x\n\nplain\n")
    assert recs == [b"r", k_text("127.0.0.1", "250 2.0.0 Ok")]
    (msg,) = sink_messages(d)
    assert b"X-Mail-Args: <>\n" in msg


# ---------------------------------------------------------------- scripted peer

def test_wire_bytes_pipelining_size_8bit(inst, peers):
    p = peers()
    route(inst, f"example.net:127.0.0.1:{p.port}\n")
    recs = remote(inst, "example.net", "sender@example.test", ["rcpt@example.net"])
    assert recs == [b"r", k_text("127.0.0.1", "250 2.0.0 queued")]
    (s,) = p.sessions
    assert s.lines == [
        b"EHLO example.test\r\n",
        f"MAIL FROM:<sender@example.test> SIZE={len(MESSAGE)} BODY=8BITMIME\r\n".encode(),
        b"RCPT TO:<rcpt@example.net>\r\n",
        b"DATA\r\n",
        b"QUIT\r\n",
    ]
    assert s.pipelined is True
    assert s.data == WIRE


def test_no_pipelining_waits_for_each_reply(inst, peers):
    p = peers(ehlo=("8BITMIME",))
    route(inst, f"example.net:127.0.0.1:{p.port}\n")
    recs = remote(inst, "example.net", "s@example.test", ["a@example.net"])
    assert recs[-1].startswith(b"K127.0.0.1 accepted message.")
    (s,) = p.sessions
    assert s.pipelined is False
    assert s.lines[1] == b"MAIL FROM:<s@example.test> BODY=8BITMIME\r\n"


def test_recipient_records(inst, peers):
    p = peers(replies={"RCPT": [b"550 5.1.1 no such user", b"451 4.3.0 try later",
                                b"250 ok"]})
    route(inst, f"example.net:127.0.0.1:{p.port}\n")
    recs = remote(inst, "example.net", "s@example.test",
                  ["gone@example.net", "later@example.net", "ok@example.net"])
    assert recs == [
        b"h127.0.0.1 does not like recipient.\nRemote host said: 550 5.1.1 no such user\n",
        b"s127.0.0.1 does not like recipient.\nRemote host said: 451 4.3.0 try later\n",
        b"r",
        k_text("127.0.0.1", "250 2.0.0 queued"),
    ]


def test_all_recipients_refused(inst, peers):
    p = peers(replies={"RCPT": [b"550 5.1.1 no"]})
    route(inst, f"example.net:127.0.0.1:{p.port}\n")
    recs = remote(inst, "example.net", "s@example.test", ["gone@example.net"])
    assert recs == [
        b"h127.0.0.1 does not like recipient.\nRemote host said: 550 5.1.1 no\n",
        b"DGiving up on 127.0.0.1.\nRemote host said: 550 5.1.1 no\n",
    ]
    assert p.sessions[0].lines[-1] == b"QUIT\r\n"


@pytest.mark.parametrize("where,reply,want", [
    ("MAIL", b"553 5.1.8 bad sender",
     b"DConnected to 127.0.0.1 but sender was rejected.\nRemote host said: 553 5.1.8 bad sender\n"),
    ("MAIL", b"451 4.1.8 later",
     b"ZConnected to 127.0.0.1 but sender was rejected.\nRemote host said: 451 4.1.8 later\n"),
    ("DATA", b"554 5.5.1 no valid recipients",
     b"D127.0.0.1 failed on DATA command.\nRemote host said: 554 5.5.1 no valid recipients\n"),
    ("DATA", b"451 4.3.0 not now",
     b"Z127.0.0.1 failed on DATA command.\nRemote host said: 451 4.3.0 not now\n"),
    ("END", b"552 5.3.4 too big",
     b"D127.0.0.1 failed after I sent the message.\nRemote host said: 552 5.3.4 too big\n"),
    ("END", b"451 4.3.0 disk full",
     b"Z127.0.0.1 failed after I sent the message.\nRemote host said: 451 4.3.0 disk full\n"),
])
def test_failure_replies(inst, peers, where, reply, want):
    p = peers(replies={where: reply})
    route(inst, f"example.net:127.0.0.1:{p.port}\n")
    recs = remote(inst, "example.net", "s@example.test", ["a@example.net"])
    assert recs[-1] == want
    if where in ("DATA", "END"):
        assert recs[0] == b"r"
    else:
        assert len(recs) == 1  # no recipient records when the sender fails


def test_multiline_reply_text(inst, peers):
    p = peers(replies={"END": b"250-first line\r\n250 2.0.0 second"})
    route(inst, f"example.net:127.0.0.1:{p.port}\n")
    recs = remote(inst, "example.net", "s@example.test", ["a@example.net"])
    assert recs[-1] == (b"K127.0.0.1 accepted message.\n"
                        b"Remote host said: 250-first line\n250 2.0.0 second\n")


def test_greeting_421(inst, peers):
    p = peers(greeting=b"421 4.3.2 busy, come back later")
    route(inst, f"example.net:127.0.0.1:{p.port}\n")
    recs = remote(inst, "example.net", "s@example.test", ["a@example.net"])
    assert recs == [b"ZConnected to 127.0.0.1 but greeting failed.\n"
                    b"Remote host said: 421 4.3.2 busy, come back later\n"]


def test_connection_refused(inst):
    route(inst, f"example.net:127.0.0.1:{free_port()}\n")
    recs = remote(inst, "example.net", "s@example.test", ["a@example.net"])
    assert recs == [b"ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n"]


def test_connection_dropped_after_body(inst, peers):
    p = peers(drop_after_data=True)
    route(inst, f"example.net:127.0.0.1:{p.port}\n")
    recs = remote(inst, "example.net", "s@example.test", ["a@example.net"])
    assert recs == [b"r", b"ZConnected to 127.0.0.1 but connection died. "
                          b"Possible duplicate! (#4.4.2)\n"]


def test_ehlo_refused_falls_back_to_helo(inst, peers):
    p = peers(replies={"EHLO": b"502 5.5.1 what is EHLO"})
    route(inst, f"example.net:127.0.0.1:{p.port}\n")
    recs = remote(inst, "example.net", "s@example.test", ["a@example.net"])
    assert recs == [b"r", k_text("127.0.0.1", "250 2.0.0 queued")]
    s = p.sessions[0]
    assert s.lines[:3] == [b"EHLO example.test\r\n", b"HELO example.test\r\n",
                           b"MAIL FROM:<s@example.test>\r\n"]  # no parameters after HELO


def test_helo_refused(inst, peers):
    p = peers(replies={"EHLO": b"550 no", "HELO": b"550 5.7.1 go away"})
    route(inst, f"example.net:127.0.0.1:{p.port}\n")
    recs = remote(inst, "example.net", "s@example.test", ["a@example.net"])
    assert recs == [b"ZConnected to 127.0.0.1 but my name was rejected.\n"
                    b"Remote host said: 550 5.7.1 go away\n"]


def test_helohost_control(inst, peers):
    inst.write("control/helohost", "helo.example.test\n")
    p = peers()
    route(inst, f"example.net:127.0.0.1:{p.port}\n")
    remote(inst, "example.net", "s@example.test", ["a@example.net"])
    assert p.sessions[0].lines[0] == b"EHLO helo.example.test\r\n"


def test_smtputf8(inst, peers):
    p = peers()
    route(inst, f"example.net:127.0.0.1:{p.port}\n")
    recs = remote(inst, "example.net", "s@example.test", ["j\u00f6rg@example.net".encode()],
                  message=b"Subject: x\n\nhi\n")
    assert recs == [b"DConnected to 127.0.0.1 but it does not support SMTPUTF8, which the "
                    b"addresses need. (#5.6.7)\nRemote host said: 250-peer.example\n"
                    b"250-PIPELINING\n250-SIZE 10000000\n250 8BITMIME\n"]
    p2 = peers(ehlo=("PIPELINING", "SMTPUTF8"))
    route(inst, f"example.net:127.0.0.1:{p2.port}\n")
    recs = remote(inst, "example.net", "s@example.test", ["j\u00f6rg@example.net".encode()],
                  message=b"Subject: x\n\nhi\n")
    assert recs[-1].startswith(b"K127.0.0.1 accepted message.")
    assert p2.sessions[0].lines[1] == b"MAIL FROM:<s@example.test> SMTPUTF8\r\n"
    assert p2.sessions[0].lines[2] == "RCPT TO:<j\u00f6rg@example.net>\r\n".encode()


def test_quoted_local_part(inst, peers):
    p = peers()
    route(inst, f"example.net:127.0.0.1:{p.port}\n")
    remote(inst, "example.net", "a b@example.test", ["x..y@example.net"])
    assert p.sessions[0].lines[1].startswith(b'MAIL FROM:<"a b"@example.test>')
    assert p.sessions[0].lines[2] == b'RCPT TO:<"x..y"@example.net>\r\n'


def test_outgoingip(inst, peers):
    p = peers()
    route(inst, f"example.net:127.0.0.1:{p.port}\n")
    inst.write("control/outgoingip", "127.0.0.2\n")
    recs = remote(inst, "example.net", "s@example.test", ["a@example.net"])
    assert recs[-1].startswith(b"K127.0.0.1 accepted message.")
    assert p.sessions[0].addr == "127.0.0.2"
    inst.write("control/outgoingip", "192.0.2.254\n")  # not ours: cannot bind
    recs = remote(inst, "example.net", "s@example.test", ["a@example.net"])
    assert recs[0].startswith(b"ZUnable to bind to 192.0.2.254 (control/outgoingip): ")


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback here")
def test_ipv6_relay(inst, peers):
    p = peers(host="::1")
    route(inst, f"example.net:[::1]:{p.port}\n")
    recs = remote(inst, "example.net", "s@example.test", ["a@example.net"])
    assert recs == [b"r", k_text("::1", "250 2.0.0 queued")]
    assert p.sessions[0].data == WIRE
    # tcpto6 is made on first use when qmailctl did not make it.
    assert inst.read("queue/lock/tcpto6") == b"\0" * 2048


def test_smtproutes_bad_port(inst):
    route(inst, "example.net:relay.example:99999\n")
    recs = remote(inst, "example.net", "s@example.test", ["a@example.net"])
    assert recs == [b"ZUnable to parse control/smtproutes value relay.example:99999 for "
                    b"example.net. (#4.3.0)\n"]


def test_address_with_line_break(inst):
    recs = remote(inst, "example.net", "s@example.test", ["a\r\nRSET@example.net"])
    assert recs == [b"DSorry, an address holds a CR or LF, which SMTP cannot carry. (#5.1.3)\n"]


# ---------------------------------------------------------------- tcpto

def tcpto_record(ip, count, when):
    return socket.inet_aton(ip) + bytes([count, 0, 0, 0]) + struct.pack("<I", when) + b"\0" * 4


def test_tcpto_skips_dead_host_and_tcpok_clears(inst, peers):
    p = peers()
    route(inst, f"example.net:127.0.0.1:{p.port}\n")
    now = int(time.time())
    table = tcpto_record("127.0.0.1", 2, now - 10) + tcpto_record("192.0.2.9", 1, now - 100)
    inst.write("queue/lock/tcpto", table + b"\0" * (1024 - len(table)))
    recs = remote(inst, "example.net", "s@example.test", ["a@example.net"])
    assert recs == [b"ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n"]
    assert p.sessions == []

    r = inst.run(["qmail-tcpto"])
    assert r.returncode == 0
    lines = r.stdout.decode().splitlines()
    assert len(lines) == 2
    ago0 = int(lines[0].split()[3])
    assert lines[0] == f"127.0.0.1 timed out {ago0} seconds ago; # recent timeouts: 2"
    assert 10 <= ago0 <= 10 + WAIT
    assert lines[1].startswith("192.0.2.9 timed out ")
    assert lines[1].endswith(" seconds ago; # recent timeouts: 1")

    r = inst.run(["qmail-tcpok"])
    assert r.returncode == 0, r.stderr
    assert inst.read("queue/lock/tcpto") == b"\0" * 1024
    assert inst.run(["qmail-tcpto"]).stdout == b""
    recs = remote(inst, "example.net", "s@example.test", ["a@example.net"])
    assert recs[-1].startswith(b"K127.0.0.1 accepted message.")


def test_tcpto_success_resets_count(inst, peers):
    p = peers()
    route(inst, f"example.net:127.0.0.1:{p.port}\n")
    now = int(time.time())
    # Count 2 but long ago: tried again; the success clears the count.
    table = tcpto_record("127.0.0.1", 2, now - 100000)
    inst.write("queue/lock/tcpto", table + b"\0" * (1024 - len(table)))
    recs = remote(inst, "example.net", "s@example.test", ["a@example.net"])
    assert recs[-1].startswith(b"K127.0.0.1 accepted message.")
    t = inst.read("queue/lock/tcpto")
    assert len(t) == 1024
    assert t[0:4] == socket.inet_aton("127.0.0.1") and t[4] == 0


def test_tcpto_records_connect_timeouts(inst, peers):
    # A listener whose accept queue is full: connections to it time out.
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(0)
    port = hole.getsockname()[1]
    filler = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    try:
        inst.write("control/timeoutconnect", "1\n")
        route(inst, f"example.net:127.0.0.1:{port}\n")
        noconn = [b"ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n"]
        before = int(time.time())
        assert remote(inst, "example.net", "s@example.test", ["a@example.net"]) == noconn
        t = inst.read("queue/lock/tcpto")
        assert t[0:4] == socket.inet_aton("127.0.0.1") and t[4] == 1
        when = struct.unpack("<I", t[8:12])[0]
        assert before <= when <= int(time.time())
        assert t[16:] == b"\0" * (1024 - 16)
        # A second timeout within two minutes counts once.
        assert remote(inst, "example.net", "s@example.test", ["a@example.net"]) == noconn
        assert inst.read("queue/lock/tcpto")[4] == 1
        # After an older one, it counts: two timeouts make the address dead.
        inst.write("queue/lock/tcpto", tcpto_record("127.0.0.1", 1, when - 200) + t[16:])
        assert remote(inst, "example.net", "s@example.test", ["a@example.net"]) == noconn
        assert inst.read("queue/lock/tcpto")[4] == 2
    finally:
        filler.close()
        hole.close()
    # A server there now is not even tried while the address is dead...
    p = peers(port=port)
    assert remote(inst, "example.net", "s@example.test", ["a@example.net"]) == noconn
    assert p.sessions == []
    # ...until qmail-tcpok clears the table.
    assert inst.run(["qmail-tcpok"]).returncode == 0
    recs = remote(inst, "example.net", "s@example.test", ["a@example.net"])
    assert recs[-1].startswith(b"K127.0.0.1 accepted message.")


def test_tcpto6_printed(inst):
    ip6 = socket.inet_pton(socket.AF_INET6, "2001:db8::7")
    rec = ip6 + bytes([3]) + b"\0" * 7 + struct.pack("<Q", int(time.time()) - 5)
    inst.write("queue/lock/tcpto6", rec + b"\0" * (2048 - 32))
    r = inst.run(["qmail-tcpto"])
    assert r.returncode == 0
    (line,) = r.stdout.decode().splitlines()
    assert line.startswith("2001:db8::7 timed out ")
    assert line.endswith(" seconds ago; # recent timeouts: 3")
    assert inst.run(["qmail-tcpok"]).returncode == 0
    assert inst.read("queue/lock/tcpto6") == b"\0" * 2048



def test_rspawn_clears_both_tables_at_start(inst):
    now = int(time.time())
    rec6 = (socket.inet_pton(socket.AF_INET6, "2001:db8::7") + bytes([3]) + b"\0" * 7 +
            struct.pack("<Q", now - 5))
    rec4 = tcpto_record("192.0.2.9", 3, now - 5)
    inst.write("queue/lock/tcpto", rec4 + b"\0" * (1024 - len(rec4)))
    inst.write("queue/lock/tcpto6", rec6 + b"\0" * (2048 - len(rec6)))
    assert len(inst.run(["qmail-tcpto"]).stdout.decode().splitlines()) == 2
    # qmail-send gone at once: qmail-rspawn writes its banner and exits.
    r = inst.run(["qmail-rspawn"], input=b"")
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"\x03\xe8"
    assert inst.read("queue/lock/tcpto") == b"\0" * 1024
    assert inst.read("queue/lock/tcpto6") == b"\0" * 2048
    # A missing table is nothing to forget.
    os.unlink(os.path.join(inst.path, "queue/lock/tcpto6"))
    r = inst.run(["qmail-rspawn"], input=b"")
    assert r.returncode == 0, r.stderr
    assert not os.path.exists(os.path.join(inst.path, "queue/lock/tcpto6"))


# ---------------------------------------------------------------- DNS (unbound)

ZONES = """
    local-zone: "test." static
    local-data: "pref.test. MX 20 mx-b.pref.test."
    local-data: "pref.test. MX 10 mx-a.pref.test."
    local-data: "mx-a.pref.test. A 127.0.0.2"
    local-data: "mx-b.pref.test. A 127.0.0.3"
    local-data: "a-only.test. A 127.0.0.2"
    local-data: "self.test. MX 10 me.self.test."
    local-data: "self.test. MX 20 other.self.test."
    local-data: "me.self.test. A 127.0.0.1"
    local-data: "other.self.test. A 127.0.0.3"
    local-data: "selfworse.test. MX 5 other.selfworse.test."
    local-data: "selfworse.test. MX 10 me.selfworse.test."
    local-data: "other.selfworse.test. A 127.0.0.3"
    local-data: "me.selfworse.test. A 127.0.0.1"
    local-data: "nullmx.test. MX 0 ."
    local-data: "deadmx.test. MX 10 nowhere.deadmx.test."
    local-data: "mx.tls.test. A 127.0.0.1"
    local-data: "other.tls.test. A 127.0.0.1"
    local-zone: "refused.example." refuse
"""


def dns_query(port, name, qtype=1):
    """One UDP query; the answer's rcode, or None when nothing came."""
    q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", qtype, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.5)
        s.sendto(q, ("127.0.0.1", port))
        try:
            data = s.recv(4096)
        except socket.timeout:
            return None
    return data[3] & 0x0F


@pytest.fixture(scope="module")
def unbound(test_user):
    """A real unbound on 127.0.0.1 serving ZONES, run as the test user."""
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
    do-not-query-localhost: no
    access-control: 127.0.0.0/8 allow
    module-config: "iterator"
    num-threads: 1
{ZONES}
remote-control:
    control-enable: no
""")
    os.chmod(conf, 0o644)

    def demote():
        if os.geteuid() == 0:
            os.setgroups([])
            os.setgid(test_user.gid)
            os.setuid(test_user.uid)

    log = open(os.path.join(d, "stderr"), "wb")
    p = subprocess.Popen([UNBOUND, "-d", "-c", conf], preexec_fn=demote,
                         stdout=subprocess.DEVNULL, stderr=log)
    log.close()
    deadline = time.time() + WAIT
    while dns_query(port, "a-only.test") != 0:
        if p.poll() is not None:
            with open(os.path.join(d, "stderr"), "rb") as f:
                raise AssertionError("unbound exited: " + f.read().decode(errors="replace"))
        assert time.time() < deadline, "unbound did not answer"
        time.sleep(0.05)
    yield port
    p.terminate()
    try:
        p.wait(WAIT)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def dns_inst(inst, unbound):
    inst.write("control/dnsservers", f"127.0.0.1@{unbound}\n")
    return inst


def peers_on(peers, addrs):
    """Peers on the same port at each address (MX delivery uses one port)."""
    for _ in range(20):
        port = free_port()
        made = []
        try:
            for a in addrs:
                made.append(peers(host=a, port=port))
            return port, made
        except OSError:
            for m in made:
                m.close()
    raise AssertionError("no common free port")


def test_mx_preference_order(dns_inst, peers):
    port, (a, b) = peers_on(peers, ["127.0.0.2", "127.0.0.3"])
    route(dns_inst, f"pref.test::{port}\n")  # by MX, to this port
    for _ in range(3):
        recs = remote(dns_inst, "pref.test", "s@example.test", ["x@pref.test"])
        assert recs == [b"r", k_text("127.0.0.2", "250 2.0.0 queued")]
    assert len(a.sessions) == 3 and b.sessions == []
    a.close()  # the best MX goes away: the next one takes the mail
    recs = remote(dns_inst, "pref.test", "s@example.test", ["x@pref.test"])
    assert recs == [b"r", k_text("127.0.0.3", "250 2.0.0 queued")]


def test_no_mx_falls_back_to_address(dns_inst, peers):
    port, (a,) = peers_on(peers, ["127.0.0.2"])
    route(dns_inst, f"a-only.test::{port}\n")
    recs = remote(dns_inst, "a-only.test", "s@example.test", ["x@a-only.test"])
    assert recs == [b"r", k_text("127.0.0.2", "250 2.0.0 queued")]


def test_nxdomain(dns_inst):
    recs = remote(dns_inst, "nxdomain.test", "s@example.test", ["x@nxdomain.test"])
    assert recs == [b"DSorry, I couldn't find any host named nxdomain.test. (#5.1.2)\n"]


def test_relay_name_nxdomain(dns_inst):
    route(dns_inst, "example.net:relay.nowhere.test:2525\n")
    recs = remote(dns_inst, "example.net", "s@example.test", ["x@example.net"])
    assert recs == [b"DSorry, I couldn't find any host named relay.nowhere.test. (#5.1.2)\n"]


def test_dns_temporary_failure(dns_inst):
    recs = remote(dns_inst, "refused.example", "s@example.test", ["x@refused.example"])
    assert recs == [b"ZSorry, I couldn't find any host by that name. (#4.1.2)\n"]


def test_dns_server_down(inst):
    inst.write("control/dnsservers", f"127.0.0.1@{free_port()}\n")
    inst.write("control/timeoutconnect", "2\n")
    start = time.time()
    recs = remote(inst, "pref.test", "s@example.test", ["x@pref.test"])
    assert recs == [b"ZSorry, I couldn't find any host by that name. (#4.1.2)\n"]
    assert time.time() - start < 30


def test_self_best_mx(dns_inst):
    recs = remote(dns_inst, "self.test", "s@example.test", ["x@self.test"])
    assert recs == [b"DSorry. Although I'm listed as a best-preference MX or A for that host,\n"
                    b"it isn't in my control/locals file, so I don't treat it as local. (#5.4.6)\n"]


def test_self_worse_mx_skipped(dns_inst, peers):
    port, (a,) = peers_on(peers, ["127.0.0.3"])
    route(dns_inst, f"selfworse.test::{port}\n")
    recs = remote(dns_inst, "selfworse.test", "s@example.test", ["x@selfworse.test"])
    assert recs == [b"r", k_text("127.0.0.3", "250 2.0.0 queued")]


def test_null_mx_and_dead_mx(dns_inst):
    recs = remote(dns_inst, "nullmx.test", "s@example.test", ["x@nullmx.test"])
    assert recs == [b"DSorry, nullmx.test does not accept mail (null MX). (#5.1.10)\n"]
    recs = remote(dns_inst, "deadmx.test", "s@example.test", ["x@deadmx.test"])
    assert recs == [b"DSorry, I couldn't find a mail exchanger or IP address. (#5.4.4)\n"]


# ---------------------------------------------------------------- STARTTLS

@pytest.fixture(scope="module")
def cert():
    """A self-signed certificate for mx.tls.test (and 127.0.0.1)."""
    d = tempfile.mkdtemp(prefix="qng-cert-", dir="/tmp")
    os.chmod(d, 0o755)
    key, crt = os.path.join(d, "key.pem"), os.path.join(d, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", crt,
                    "-days", "2", "-subj", "/CN=mx.tls.test",
                    "-addext", "subjectAltName=DNS:mx.tls.test"],
                   check=True, capture_output=True, timeout=60)
    os.chmod(crt, 0o644)
    yield key, crt
    shutil.rmtree(d, ignore_errors=True)


def tls_ctx(cert):
    key, crt = cert
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    c.load_cert_chain(crt, key)
    return c


def tls_note(verified):
    v = b"verified" if verified else b"not verified"
    return b"TLS: TLSv1.3 TLS_AES_256_GCM_SHA384, certificate " + v + b".\n"


def test_tls_may_is_the_default(inst, peers, cert):
    p = peers(tls=tls_ctx(cert))
    route(inst, f"example.net:127.0.0.1:{p.port}\n")
    recs = remote(inst, "example.net", "s@example.test", ["a@example.net"])
    assert recs == [b"r", k_text("127.0.0.1", "250 2.0.0 queued") + tls_note(False)]
    (s,) = p.sessions
    assert s.tls == "TLSv1.3"
    assert s.lines[:3] == [b"EHLO example.test\r\n", b"STARTTLS\r\n", b"EHLO example.test\r\n"]
    assert s.data == WIRE


def test_tls_none(inst, peers, cert):
    p = peers(tls=tls_ctx(cert))
    route(inst, f"example.net:127.0.0.1:{p.port}\n")
    inst.write("control/tlspolicy", "example.net:none\n")
    recs = remote(inst, "example.net", "s@example.test", ["a@example.net"])
    assert recs == [b"r", k_text("127.0.0.1", "250 2.0.0 queued")]
    assert b"STARTTLS\r\n" not in p.sessions[0].lines


def test_tls_may_without_starttls_goes_plain(inst, peers):
    p = peers()
    route(inst, f"example.net:127.0.0.1:{p.port}\n")
    recs = remote(inst, "example.net", "s@example.test", ["a@example.net"])
    assert recs == [b"r", k_text("127.0.0.1", "250 2.0.0 queued")]


def test_tls_may_handshake_failure_retries_plain(inst, peers):
    p = peers(tls="fail")
    route(inst, f"example.net:127.0.0.1:{p.port}\n")
    recs = remote(inst, "example.net", "s@example.test", ["a@example.net"])
    assert recs == [b"r", k_text("127.0.0.1", "250 2.0.0 queued")]
    first, second = p.sessions
    assert first.lines == [b"EHLO example.test\r\n", b"STARTTLS\r\n"]
    assert b"STARTTLS\r\n" not in second.lines
    assert second.data == WIRE


def test_tls_encrypt(inst, peers, cert):
    inst.write("control/tlspolicy", ".net:encrypt\n")
    plain = peers()
    route(inst, f"example.net:127.0.0.1:{plain.port}\n")
    recs = remote(inst, "example.net", "s@example.test", ["a@example.net"])
    assert recs == [b"ZConnected to 127.0.0.1 but it does not offer STARTTLS, which "
                    b"control/tlspolicy requires (encrypt). (#4.7.0)\n"
                    b"Remote host said: 250-peer.example\n250-PIPELINING\n"
                    b"250-SIZE 10000000\n250 8BITMIME\n"]
    assert plain.sessions[0].data == b""
    tls = peers(tls=tls_ctx(cert))
    route(inst, f"example.net:127.0.0.1:{tls.port}\n")
    recs = remote(inst, "example.net", "s@example.test", ["a@example.net"])
    assert recs == [b"r", k_text("127.0.0.1", "250 2.0.0 queued") + tls_note(False)]
    broken = peers(tls="fail")
    route(inst, f"example.net:127.0.0.1:{broken.port}\n")
    recs = remote(inst, "example.net", "s@example.test", ["a@example.net"])
    assert len(recs) == 1
    assert recs[0].startswith(b"ZConnected to 127.0.0.1 but the TLS handshake failed (encrypt): ")
    assert recs[0].endswith(b". (#4.7.5)\n")
    assert len(broken.sessions) == 1  # no plaintext retry


def test_tls_verify(dns_inst, peers, cert):
    inst = dns_inst
    p = peers(tls=tls_ctx(cert))
    inst.write("control/tlspolicy", "example.net:verify\n")
    route(inst, f"example.net:mx.tls.test:{p.port}\n")
    # Self-signed and not in control/tlsca.pem: refused.
    recs = remote(inst, "example.net", "s@example.test", ["a@example.net"])
    assert recs == [b"ZConnected to 127.0.0.1 but the TLS handshake failed (verify): "
                    b"certificate not accepted: self-signed certificate. (#4.7.5)\n"]
    # Trusted through control/tlsca.pem, and the name matches.
    with open(cert[1], "rb") as f:
        inst.write("control/tlsca.pem", f.read())
    recs = remote(inst, "example.net", "s@example.test", ["a@example.net"])
    assert recs == [b"r", k_text("127.0.0.1", "250 2.0.0 queued") + tls_note(True)]
    assert p.sessions[-1].data == WIRE
    # Trusted, but the certificate names another host.
    route(inst, f"example.net:other.tls.test:{p.port}\n")
    recs = remote(inst, "example.net", "s@example.test", ["a@example.net"])
    assert recs == [b"ZConnected to 127.0.0.1 but the TLS handshake failed (verify): "
                    b"certificate not accepted: hostname mismatch. (#4.7.5)\n"]


# ---------------------------------------------------------------- AUTH

AUTH_KEYS = ("PIPELINING", "8BITMIME", "AUTH PLAIN LOGIN")


def test_auth_plain_after_starttls(inst, peers, cert):
    p = peers(tls=tls_ctx(cert), ehlo=AUTH_KEYS)
    route(inst, f":127.0.0.1:{p.port}\n")  # the smarthost
    inst.write("control/smtpauth", "127.0.0.1:alice:s3cr:et\n", 0o600)
    recs = remote(inst, "example.net", "s@example.test", ["a@example.net"])
    assert recs == [b"r", k_text("127.0.0.1", "250 2.0.0 queued") + tls_note(False)]
    (s,) = p.sessions
    token = base64.b64encode(b"\0alice\0s3cr:et")
    assert s.lines[:5] == [b"EHLO example.test\r\n", b"STARTTLS\r\n", b"EHLO example.test\r\n",
                           b"AUTH PLAIN " + token + b"\r\n",
                           b"MAIL FROM:<s@example.test> BODY=8BITMIME\r\n"]


def test_auth_login_only(inst, peers, cert):
    p = peers(tls=tls_ctx(cert), ehlo=("AUTH LOGIN",))
    route(inst, f":127.0.0.1:{p.port}\n")
    inst.write("control/smtpauth", "127.0.0.1:bob:pw\n", 0o600)
    recs = remote(inst, "example.net", "s@example.test", ["a@example.net"])
    assert recs[-1].startswith(b"K127.0.0.1 accepted message.")
    s = p.sessions[0]
    assert s.lines[3:6] == [b"AUTH LOGIN\r\n", base64.b64encode(b"bob") + b"\r\n",
                            base64.b64encode(b"pw") + b"\r\n"]


def test_auth_refused_is_temporary(inst, peers, cert):
    p = peers(tls=tls_ctx(cert), ehlo=AUTH_KEYS,
              replies={"AUTH": b"535 5.7.8 authentication credentials invalid"})
    route(inst, f":127.0.0.1:{p.port}\n")
    inst.write("control/smtpauth", "127.0.0.1:alice:wrong\n", 0o600)
    recs = remote(inst, "example.net", "s@example.test", ["a@example.net"])
    assert recs == [b"ZConnected to 127.0.0.1 but authentication failed. (#4.7.0)\n"
                    b"Remote host said: 535 5.7.8 authentication credentials invalid\n"
                    + tls_note(False)]


def test_auth_never_in_plaintext_unless_allowed(inst, peers):
    p = peers(ehlo=AUTH_KEYS)
    route(inst, f":127.0.0.1:{p.port}\n")
    inst.write("control/smtpauth", "127.0.0.1:alice:secret\n", 0o600)
    recs = remote(inst, "example.net", "s@example.test", ["a@example.net"])
    assert len(recs) == 1
    assert recs[0].startswith(b"ZConnected to 127.0.0.1 but I will not send the password "
                              b"for 127.0.0.1 without TLS (see control/tlspolicy). (#4.7.0)\n")
    assert not any(l.startswith(b"AUTH") for l in p.sessions[0].lines)
    inst.write("control/tlspolicy", "127.0.0.1:may,plainauth\n")
    recs = remote(inst, "example.net", "s@example.test", ["a@example.net"])
    assert recs[-1].startswith(b"K127.0.0.1 accepted message.")
    assert p.sessions[1].lines[1] == b"AUTH PLAIN " + base64.b64encode(b"\0alice\0secret") + b"\r\n"


def test_smtpauth_readable_by_others_is_refused(inst, peers, cert):
    p = peers(tls=tls_ctx(cert), ehlo=AUTH_KEYS)
    route(inst, f":127.0.0.1:{p.port}\n")
    inst.write("control/smtpauth", "127.0.0.1:alice:secret\n", 0o644)
    recs = remote(inst, "example.net", "s@example.test", ["a@example.net"])
    assert recs == [b"Zcontrol/smtpauth is open to group or others; refusing to use it "
                    b"(chmod 600 control/smtpauth). (#4.3.0)\n"]
    assert p.sessions == []


# ---------------------------------------------------------------- DKIM
# qmail-remote signs with the keys of control/dkim/DOMAIN (docs/dkim.md);
# the bytes the peer received are checked by dkimpy (Debian's python3-dkim),
# with the records qmail-dkim keygen printed standing in for DNS.

DKIM_MESSAGE = (b"From: Alice <alice@example.test>\n"
                b"To: bob@example.net\n"
                b"Subject: signed   on the way out\n"
                b"Date: Sun, 3 Mar 2024 09:05:01 +0000\n"
                b"Message-ID: <dkim.1@example.test>\n"
                b"\n"
                + MESSAGE.split(b"\n\n", 1)[1])


def encode_wire(msg):
    """What qmail-remote sends between DATA and its end: LF, CRLF and a bare
    CR each a CRLF, a partial last line ended, dots stuffed, ".\r\n"."""
    msg = msg.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if msg and not msg.endswith(b"\n"):
        msg += b"\n"
    lines = msg.split(b"\n")[:-1]
    return b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n" for l in lines) + b".\r\n"


def received_message(data):
    """The message as the peer's SMTP server stores it: the DATA bytes with
    the final dot removed and the dot-stuffing undone."""
    assert data.endswith(b"\r\n.\r\n")
    lines = data[:-3].split(b"\r\n")
    assert lines[-1] == b""
    return b"\r\n".join(l[1:] if l.startswith(b".") else l for l in lines)


class DkimDns:
    """TXT records from qmail-dkim keygen's output, as dkimpy's dnsfunc."""

    def __init__(self):
        self.records = {}

    def add(self, output):
        name, txt = output.decode().strip().split(" IN TXT ", 1)
        self.records[name.encode()] = "".join(re.findall(r'"([^"]*)"', txt)).encode()

    def __call__(self, name, timeout=5):
        return self.records.get(name)


def dkim_keygen(inst, dns, *args):
    r = inst.run(["qmail-dkim", "keygen", *args])
    assert r.returncode == 0, r.stderr
    dns.add(r.stdout)


def dkim_signatures(msg):
    """The DKIM-Signature fields at the top of msg (CRLF), as tag dicts."""
    sigs = []
    for m in re.finditer(rb"^DKIM-Signature:(.*(?:\r\n[ \t].*)*)\r\n", msg, re.M):
        value = re.sub(rb"\s+", b"", m.group(1))
        sigs.append(dict(t.split(b"=", 1) for t in value.split(b";") if t))
    return sigs


def dkim_verify_all(msg, dns):
    """dkimpy's verdict on each signature of msg (CRLF line ends)."""
    results = []
    for i in range(len(dkim_signatures(msg))):
        try:
            results.append(bool(dkim.DKIM(msg).verify(idx=i, dnsfunc=dns)))
        except dkim.ValidationError:  # the body hash does not match
            results.append(False)
    return results


def test_encode_wire_is_the_documented_encoding():
    assert encode_wire(MESSAGE) == WIRE


@pytest.mark.parametrize("keys,algos", [
    ([()], [b"rsa-sha256"]),
    ([("ed25519",)], [b"ed25519-sha256"]),
    ([("ed25519",), ()], [b"rsa-sha256", b"ed25519-sha256"]),
], ids=["rsa", "ed25519", "both"])
def test_dkim_signs_the_bytes_sent(inst, peers, keys, algos):
    dns = DkimDns()
    for k in keys:
        dkim_keygen(inst, dns, "example.test", *k)
    p = peers()
    route(inst, f"example.net:127.0.0.1:{p.port}\n")
    # The envelope sender's domain has no keys: From: decides (DMARC).
    recs = remote(inst, "example.net", "bounces@lists.example.org", ["bob@example.net"],
                  message=DKIM_MESSAGE)
    assert recs == [b"r", k_text("127.0.0.1", "250 2.0.0 queued")]
    (s,) = p.sessions
    msg = received_message(s.data)
    sigs = dkim_signatures(msg)
    assert [x[b"a"] for x in sigs] == algos
    assert all(x[b"d"] == b"example.test" and x[b"c"] == b"relaxed/relaxed" for x in sigs)
    assert dkim_verify_all(msg, dns) == [True] * len(algos)
    # The wire: the fields (stored with LF) and then the message, both
    # through the one encoding; SIZE counts the fields as stored.
    fields = msg[:msg.index(b"From: Alice")].replace(b"\r\n", b"\n")
    assert fields.startswith(b"DKIM-Signature: ")
    assert s.data == encode_wire(fields + DKIM_MESSAGE)
    assert s.lines[1] == (f"MAIL FROM:<bounces@lists.example.org> "
                          f"SIZE={len(DKIM_MESSAGE) + len(fields)} BODY=8BITMIME\r\n").encode()
    # The test can fail: a changed body byte or signed field does not verify.
    assert dkim_verify_all(msg.replace(b"leading dot", b"leading d0t"), dns) == \
        [False] * len(algos)
    assert dkim_verify_all(msg.replace(b"way out", b"way in"), dns) == [False] * len(algos)


def test_dkim_envelope_sender_domain_signs_from_a_pipe(inst, peers):
    dns = DkimDns()
    dkim_keygen(inst, dns, "lists.example.org", "ed25519")
    p = peers()
    route(inst, f"example.net:127.0.0.1:{p.port}\n")
    # Standard input a pipe: qmail-remote copies it to a temporary file.
    r = inst.run(["qmail-remote", "example.net", "bounces@lists.example.org",
                  "bob@example.net"], input=DKIM_MESSAGE, env={"TMPDIR": inst.root})
    assert r.returncode == 0
    assert r.stdout == b"r\0" + k_text("127.0.0.1", "250 2.0.0 queued") + b"\0"
    (s,) = p.sessions
    msg = received_message(s.data)
    (sig,) = dkim_signatures(msg)
    assert sig[b"d"] == b"lists.example.org" and sig[b"s"] == b"ed25519"
    assert dkim_verify_all(msg, dns) == [True]
    fields = msg[:msg.index(b"From: Alice")].replace(b"\r\n", b"\n")
    assert f" SIZE={len(DKIM_MESSAGE) + len(fields)} ".encode() in s.lines[1]
    assert [n for n in os.listdir(inst.root) if n.startswith("qmail-remote.")] == []


def test_dkim_no_key_for_the_domain_no_signature(inst, peers):
    dns = DkimDns()
    dkim_keygen(inst, dns, "other.example")
    p = peers()
    route(inst, f"example.net:127.0.0.1:{p.port}\n")
    recs = remote(inst, "example.net", "s@example.test", ["bob@example.net"],
                  message=DKIM_MESSAGE)
    assert recs[-1] == k_text("127.0.0.1", "250 2.0.0 queued")
    assert p.sessions[0].data == encode_wire(DKIM_MESSAGE)


def test_dkim_unusable_key_defers_and_sends_nothing(inst, peers):
    dns = DkimDns()
    dkim_keygen(inst, dns, "example.test")
    key = os.path.join(inst.path, "control/dkim/example.test/default.key")
    os.chmod(key, 0o644)
    p = peers()
    route(inst, f"example.net:127.0.0.1:{p.port}\n")
    recs = remote(inst, "example.net", "s@example.test", ["bob@example.net"],
                  message=DKIM_MESSAGE)
    assert recs == [b"ZDKIM key control/dkim/example.test/default.key is open to group "
                    b"or others (chmod 600 it). (#4.3.0)\n"]
    assert p.sessions == []
    # Mended, it goes out signed.
    os.chmod(key, 0o600)
    recs = remote(inst, "example.net", "s@example.test", ["bob@example.net"],
                  message=DKIM_MESSAGE)
    assert recs[-1] == k_text("127.0.0.1", "250 2.0.0 queued")
    assert dkim_verify_all(received_message(p.sessions[0].data), dns) == [True]


def test_dkim_header_past_the_caps_bounces(inst, peers):
    dns = DkimDns()
    dkim_keygen(inst, dns, "example.test", "ed25519")
    p = peers()
    route(inst, f"example.net:127.0.0.1:{p.port}\n")
    msg = b"From: alice@example.test\n" + b"Cc: x@example.net\n" * 1000 + b"\nbody\n"
    recs = remote(inst, "example.net", "s@example.test", ["bob@example.net"], message=msg)
    assert recs == [b"Dmore than 1000 header fields to sign. (#5.3.4)\n"]
    assert p.sessions == []
