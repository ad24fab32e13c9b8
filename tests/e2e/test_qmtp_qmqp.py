# test_qmtp_qmqp.py: qmail-qmtpd, qmail-qmqpd and qmail-qmqpc on real
# instances. The servers run as the instance user with the connection on
# fd 0/1 and ucspi-tcp's environment, as tcpserver runs them; the test
# speaks QMTP and QMQP itself, and checks the bytes and envelopes handed to
# qmail-queue (a recording stand-in named by $QMAILQUEUE, or the real
# bin/qmail-queue and its queue files).
import os
import re
import select
import shutil
import socket
import subprocess
import time

import pytest

SPLIT = 23
WAIT = 30  # seconds: the bound of every wait
DATE = rb"\d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d -0000"
PEER = {
    "PROTO": "TCP",
    "TCPREMOTEIP": "192.0.2.9",
    "TCPREMOTEHOST": "front.example.org",
    "TCPLOCALIP": "127.0.0.1",
    "TCPLOCALHOST": "queue.example.test",
}

NO_MAILBOX = b"Dsorry, no mailbox here by that name. (#5.1.1)"
NOT_RCPTHOST = b"Dsorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)"
CANT_HANDLE = b"Dsorry, I can't handle that recipient (#5.1.3)"
BAD_SENDER = b"Dunacceptable sender (#5.1.7)"
TOO_BIG = b"Dsorry, that message size exceeds my databytes limit (#5.3.4)"
HOPS = b"Dtoo many hops, this message is looping (#5.4.6)"
DB_DOWN = b"Zrecipient database unavailable (#4.3.0)"
BAD_ADDRESS = b"Dsorry, I can't accept addresses like that (#5.1.3)"


# --- the wire ---

def ns(b):
    return str(len(b)).encode() + b":" + b + b","


def package(message, sender, recipients, crlf=False):
    return (ns((b"\r" if crlf else b"\n") + message) + ns(sender)
            + ns(b"".join(ns(r) for r in recipients)))


def request(message, sender, recipients):
    return ns(ns(message) + ns(sender) + b"".join(ns(r) for r in recipients))


def netstrings(data):
    """Every netstring in data, which must hold nothing else."""
    out = []
    while data:
        colon = data.index(b":")
        n = int(data[:colon])
        assert data[colon + 1 + n:colon + 2 + n] == b",", data
        out.append(data[colon + 1:colon + 1 + n])
        data = data[colon + 2 + n:]
    return out


def received(protocol):
    return (rb"Received: from front\.example\.org \(192\.0\.2\.9\)\n"
            rb"  by queue\.example\.test with " + protocol + rb"; " + DATE + rb"\n")


# --- helpers ---

def stand_in(inst, code=0):
    """A qmail-queue stand-in that records the message (N.msg) and the
    envelope (N.env) under its pid N, then exits with `code`. Returns
    (program, directory)."""
    d = os.path.join(inst.root, "qq")
    os.makedirs(d, exist_ok=True)
    inst.chown(d)
    prog = os.path.join(inst.root, f"fake-qq-{code}")
    with open(prog, "w") as f:
        f.write("#!/bin/sh\n"
                f'cat >"{d}/$$.msg" || exit 54\n'
                f'cat 0<&1 >"{d}/$$.env" || exit 54\n'
                f"exit {code}\n")
    os.chmod(prog, 0o755)
    return prog, d


def recorded(d, qp):
    with open(os.path.join(d, f"{qp}.msg"), "rb") as f:
        msg = f.read()
    with open(os.path.join(d, f"{qp}.env"), "rb") as f:
        env = f.read()
    return msg, env


def complete_envelopes(d):
    """pids whose envelope ended with the final NUL (so would be queued)."""
    out = set()
    for name in os.listdir(d):
        if name.endswith(".env"):
            with open(os.path.join(d, name), "rb") as f:
                if f.read().endswith(b"\0\0"):
                    out.add(int(name[:-4]))
    return out


def converse(inst, prog, data, env=None):
    """Runs a server with a socketpair as fd 0/1, sends data, closes our
    side for writing and reads to the end. Returns (replies, exit code)."""
    ours, theirs = socket.socketpair()
    try:
        e = dict(PEER)
        e.update(env or {})
        p = inst.popen([prog], env=e, stdin=theirs.fileno(), stdout=theirs.fileno(),
                       stderr=subprocess.PIPE)
    finally:
        theirs.close()
    with ours:
        ours.settimeout(WAIT)
        ours.sendall(data)
        ours.shutdown(socket.SHUT_WR)
        got = b""
        while True:
            chunk = ours.recv(65536)
            if not chunk:
                break
            got += chunk
    _, err = p.communicate(timeout=WAIT)
    assert err == b"", err
    return got, p.returncode


def kok(reply):
    """The qp of a `Kok <time> qp <pid>` reply."""
    m = re.fullmatch(rb"Kok (\d+) qp (\d+)", reply)
    assert m, reply
    assert abs(int(m.group(1)) - time.time()) < 600
    return int(m.group(2))


def queue_files(inst):
    root = os.path.join(inst.path, "queue")
    out = []
    for dirpath, dirs, files in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        if rel == "lock" or rel.startswith("lock/"):
            continue
        out += [os.path.normpath(os.path.join(rel, f)) for f in files]
    return sorted(out)


def queued(inst, qp):
    """(mess bytes, todo bytes) of the message qmail-queue `qp` queued."""
    for f in queue_files(inst):
        if f.startswith("todo/"):
            n = int(f[5:])
            todo = inst.read(f"queue/todo/{n}")
            if todo.split(b"\0")[1] == b"p%d" % qp:
                return inst.read(f"queue/mess/{n % SPLIT}/{n}"), todo
    raise AssertionError(f"nothing queued by qmail-queue {qp}: {queue_files(inst)}")


# --- QMTP ---

def test_qmtp_pipelined_packages(instance):
    instance.write("control/rcptcheck", "0\n")
    instance.write("control/databytes", "2000\n")
    qq, d = stand_in(instance)
    hops = b"".join(b"Received: x\n" for _ in range(100))
    msgs = [
        b"From: a@example.org\nSubject: one\n\nbody one\n",
        b"Subject: two\r\n\r\nline\r\nbare\rcr\r\r\n",
        b"Subject: big\n\n" + b"x" * 3000 + b"\n",
        b"Subject: bad sender\n\n",
        b"Subject: addresses\n\n",
        hops + b"\nloop\n",
    ]
    data = (package(msgs[0], b"a@example.org", [b"joe@example.test", b"x@elsewhere.invalid"])
            + package(msgs[1], b"", [b"joe@example.test"], crlf=True)
            + package(msgs[2], b"a@example.org", [b"joe@example.test"])
            + package(msgs[3], b"a\0b@example.org", [b"joe@example.test"])
            + package(msgs[4], b"a@example.org",
                      [b"a" * 1000 + b"@example.test", b"", b"j\0e@example.test",
                       b"bob@localhost"])
            + package(msgs[5], b"a@example.org", [b"joe@example.test"]))
    got, code = converse(instance, "qmail-qmtpd", data, {"QMAILQUEUE": qq})
    assert code == 0
    replies = netstrings(got)
    assert len(replies) == 10, replies
    assert replies[1] == NOT_RCPTHOST
    assert replies[3] == TOO_BIG
    assert replies[4] == BAD_SENDER
    assert replies[5:8] == [CANT_HANDLE, CANT_HANDLE, CANT_HANDLE]
    assert replies[9] == HOPS
    qp1, qp2, qp5 = kok(replies[0]), kok(replies[2]), kok(replies[8])

    # Exactly the three accepted packages were committed; each qmail-queue
    # got our Received line, the message with LF line ends, the envelope.
    assert complete_envelopes(d) == {qp1, qp2, qp5}
    msg, env = recorded(d, qp1)
    assert re.fullmatch(received(b"QMTP") + re.escape(msgs[0]), msg, re.S), msg
    assert env == b"Fa@example.org\0Tjoe@example.test\0\0"
    msg, env = recorded(d, qp2)
    assert re.fullmatch(received(b"QMTP") + re.escape(b"Subject: two\n\nline\nbare\rcr\r\n"),
                        msg, re.S), msg
    assert env == b"F\0Tjoe@example.test\0\0"
    msg, env = recorded(d, qp5)
    assert msg.endswith(b"\n" + msgs[4])
    assert env == b"Fa@example.org\0Tbob@localhost\0\0"


def test_qmtp_crlf_message_larger_than_a_chunk(instance):
    instance.write("control/rcptcheck", "0\n")
    qq, d = stand_in(instance)
    body = b"".join(b"line %06d with some text\r\n" % i for i in range(20000))  # ~540 KB
    got, code = converse(instance, "qmail-qmtpd",
                         package(b"Subject: big\r\n\r\n" + body, b"a@b", [b"joe@example.test"],
                                 crlf=True), {"QMAILQUEUE": qq})
    assert code == 0
    (reply,) = netstrings(got)
    msg, env = recorded(d, kok(reply))
    assert msg.split(b"\n", 2)[2] == (b"Subject: big\r\n\r\n" + body).replace(b"\r\n", b"\n")
    assert env == b"Fa@b\0Tjoe@example.test\0\0"


GOOD = package(b"Subject: x\n\nhi\n", b"a@b", [b"joe@example.test"])


@pytest.mark.parametrize("data,replies,code", [
    (b"x", 0, 100),                                  # not a netstring
    (GOOD + b"garbage", 1, 100),                     # a good package, then garbage
    (b"16:\nSubject: x\n\nhi\n;3:a@b,", 0, 100),     # no comma after the message
    (b"2:xm,3:a@b,0:,", 0, 100),                     # bad encoding byte
    (b"0:,3:a@b,0:,", 0, 100),                       # no encoding byte
    (b"2:\nm,3:a@b,3:1:r,,", 0, 100),                # recipient past its list
    (GOOD[:-5], 0, 0),                               # cut short: the client gave up
    (b"", 0, 0),                                     # nothing at all
])
def test_qmtp_malformed_input_closes(instance, data, replies, code):
    instance.write("control/rcptcheck", "0\n")
    qq, d = stand_in(instance)
    got, rc = converse(instance, "qmail-qmtpd", data, {"QMAILQUEUE": qq})
    assert rc == code
    r = netstrings(got)
    assert len(r) == replies
    # Only a complete package is ever committed.
    assert len(complete_envelopes(d)) == replies


def test_qmtp_relayclient_and_missing_recipient_database(instance):
    # rcptcheck is on (the default) but users/recipients.cdb does not exist:
    # our own addresses cannot be checked (Z); others need no check.
    instance.write("control/rcptcheck", "1\n")
    db = os.path.join(instance.path, "users", "recipients.cdb")
    if os.path.exists(db):
        os.unlink(db)
    qq, d = stand_in(instance)
    data = package(b"Subject: r\n\n", b"a@b", [b"joe@example.test", b"x@elsewhere.invalid"])
    got, code = converse(instance, "qmail-qmtpd", data, {"QMAILQUEUE": qq})
    assert code == 0
    assert netstrings(got) == [DB_DOWN, NOT_RCPTHOST]
    assert complete_envelopes(d) == set()

    got, code = converse(instance, "qmail-qmtpd", data, {"QMAILQUEUE": qq, "RELAYCLIENT": ""})
    r = netstrings(got)
    assert r[0] == DB_DOWN
    _, env = recorded(d, kok(r[1]))
    assert env == b"Fa@b\0Tx@elsewhere.invalid\0\0"


def test_qmtp_unknown_local_recipient(instance):
    instance.add_user("joe")
    if not os.path.exists(os.path.join(instance.path, "users", "recipients.cdb")):
        pytest.skip("qmailctl cdb does not build users/recipients.cdb yet")
    qq, d = stand_in(instance)
    got, code = converse(instance, "qmail-qmtpd",
                         package(b"Subject: u\n\n", b"a@b",
                                 [b"nobody@example.test", b"joe@example.test"]),
                         {"QMAILQUEUE": qq})
    assert code == 0
    r = netstrings(got)
    assert r[0] == NO_MAILBOX
    _, env = recorded(d, kok(r[1]))
    assert env == b"Fa@b\0Tjoe@example.test\0\0"


def test_qmtp_into_the_real_queue(instance):
    instance.write("control/rcptcheck", "0\n")
    data = (package(b"Subject: lf\n\nbody\n", b"a@example.org", [b"joe@example.test"])
            + package(b"Subject: crlf\r\n\r\nbody\r\n", b"", [b"joe@example.test",
                                                              b"bob@localhost"], crlf=True))
    got, code = converse(instance, "qmail-qmtpd", data)
    assert code == 0
    r = netstrings(got)
    assert len(r) == 3 and r[1] == r[2]
    uid = instance.user.uid
    for qp, stored, envelope in [
            (kok(r[0]), b"Subject: lf\n\nbody\n", b"Fa@example.org\0Tjoe@example.test\0"),
            (kok(r[1]), b"Subject: crlf\n\nbody\n",
             b"F\0Tjoe@example.test\0Tbob@localhost\0")]:
        mess, todo = queued(instance, qp)
        assert re.fullmatch(rb"Received: \(qmail %d invoked by uid %d\); " % (qp, uid) + DATE
                            + rb"\n" + received(b"QMTP") + re.escape(stored), mess, re.S), mess
        assert todo == b"u%d\0p%d\0" % (uid, qp) + envelope


def test_qmtp_through_tcpserver(instance):
    """The real listener runs qmail-qmtpd: its environment makes the
    Received line."""
    tcpserver = os.path.join(instance.bin, "tcpserver")
    if not os.path.exists(tcpserver):
        pytest.skip("no tcpserver built")
    instance.write("control/rcptcheck", "0\n")
    qq, d = stand_in(instance)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = instance.popen([tcpserver, "-R", "-H", "-l", "queue.example.test", "127.0.0.1",
                             str(port), os.path.join(instance.path, "bin", "qmail-qmtpd")],
                            env={"QMAILQUEUE": qq}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + WAIT
        while True:
            try:
                c = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
                break
            except ConnectionRefusedError:
                assert time.time() < deadline, "tcpserver did not listen"
                time.sleep(0.05)
        with c:
            c.sendall(package(b"Subject: t\n\nhi\n", b"a@b", [b"joe@example.test"])
                      + package(b"Subject: u\r\n\r\nho\r\n", b"a@b", [b"bob@localhost"],
                                crlf=True))
            c.shutdown(socket.SHUT_WR)
            got = b""
            while True:
                chunk = c.recv(65536)
                if not chunk:
                    break
                got += chunk
    finally:
        server.terminate()
        server.wait(timeout=WAIT)
    r = netstrings(got)
    assert len(r) == 2
    msg, env = recorded(d, kok(r[0]))
    assert re.fullmatch(rb"Received: from unknown \(127\.0\.0\.1\)\n"
                        rb"  by queue\.example\.test with QMTP; " + DATE + rb"\nSubject: t\n\nhi\n",
                        msg, re.S), msg
    assert env == b"Fa@b\0Tjoe@example.test\0\0"
    msg, env = recorded(d, kok(r[1]))
    assert msg.endswith(b"\nSubject: u\n\nho\n")
    assert env == b"Fa@b\0Tbob@localhost\0\0"


# --- QMQP ---

@pytest.mark.parametrize("data,env,want,committed", [
    (request(b"Subject: q\n\nhi\n", b"a@b", [b"c@d", b"e@f"]), {}, b"K", True),
    (request(b"Subject: q\n\n", b"a\0b", [b"c@d"]), {}, BAD_ADDRESS, False),
    (request(b"Subject: q\n\n", b"a@b", [b"c@d", b"x" * 1000]), {}, BAD_ADDRESS, False),
    (request(b"Subject: q\n\n" + b"x" * 100, b"a@b", [b"c@d"]), {"DATABYTES": "50"},
     TOO_BIG, False),
    (request(b"".join(b"Delivered-To: x\n" for _ in range(100)) + b"\n", b"a@b", [b"c@d"]),
     {}, HOPS, False),
])
def test_qmqpd_replies(instance, data, env, want, committed):
    qq, d = stand_in(instance)
    e = {"QMAILQUEUE": qq}
    e.update(env)
    got, code = converse(instance, "qmail-qmqpd", data, e)
    assert code == 0
    (reply,) = netstrings(got)
    if want == b"K":
        msg, envelope = recorded(d, kok(reply))
        assert re.fullmatch(received(b"QMQP") + re.escape(b"Subject: q\n\nhi\n"), msg, re.S)
        assert envelope == b"Fa@b\0Tc@d\0Te@f\0\0"
    else:
        assert reply == want
    assert bool(complete_envelopes(d)) == committed


@pytest.mark.parametrize("data", [b"hello", b"5:9:m", request(b"m", b"a", [b"b"])[:-1] + b";"])
def test_qmqpd_malformed_request(instance, data):
    qq, d = stand_in(instance)
    got, code = converse(instance, "qmail-qmqpd", data, {"QMAILQUEUE": qq})
    assert code == 100
    assert got == b""
    assert complete_envelopes(d) == set()


def listener():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(5)
    return s


def closed_port():
    """A port on which nothing listens: connections are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_qmqpc(front, prog, message, envelope, server=None, server_env=None, env=None):
    """Runs `prog` (qmail-qmqpc or the front end's bin/qmail-queue) with the
    message on fd 0 and the envelope on fd 1. server = (listening socket,
    queue instance): each connection is served by the queue instance's
    qmail-qmqpd. Returns (exit code, qmqpd exit codes)."""
    r, w = os.pipe()
    try:
        os.write(w, envelope)
        os.close(w)
        w = -1
        p = front.popen([prog], env=env, stdin=subprocess.PIPE, stdout=r,
                        stderr=subprocess.PIPE)
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)
    try:
        p.stdin.write(message)
        p.stdin.close()
    except BrokenPipeError:  # it gave up before reading the message
        pass
    servers = []
    deadline = time.time() + WAIT
    while p.poll() is None:
        assert time.time() < deadline, "qmail-qmqpc did not finish"
        if server is None:
            time.sleep(0.02)
            continue
        ready, _, _ = select.select([server[0]], [], [], 0.05)
        if ready:
            conn, _ = server[0].accept()
            e = {"PROTO": "TCP", "TCPREMOTEIP": "127.0.0.1", "TCPREMOTEHOST": "front.example.org",
                 "TCPLOCALIP": "127.0.0.1", "TCPLOCALHOST": "queue.example.test"}
            e.update(server_env or {})
            with conn:
                servers.append(server[1].popen(["qmail-qmqpd"], env=e, stdin=conn.fileno(),
                                               stdout=conn.fileno(), stderr=subprocess.PIPE))
    err = p.stderr.read()
    p.stderr.close()
    assert err == b"", err
    codes = []
    for s in servers:
        _, serr = s.communicate(timeout=WAIT)
        assert serr == b"", serr
        codes.append(s.returncode)
    return p.returncode, codes


def test_mini_qmail_front_end_hands_mail_to_queue_host(make_instance):
    front = make_instance(me="front.example.test")
    central = make_instance(me="queue.example.test")
    with listener() as s:
        port = s.getsockname()[1]
        front.write("control/qmqpservers", f"# the queue host\n127.0.0.1:{port}\n")
        # mini-qmail: the front end's qmail-queue is qmail-qmqpc.
        qq = os.path.join(front.path, "bin", "qmail-queue")
        os.unlink(qq)
        shutil.copy2(os.path.join(front.bin, "qmail-qmqpc"), qq)
        os.chmod(qq, 0o755)
        message = b"From: a@front.example.test\nSubject: via QMQP\n\nbody\n"
        # Run as qmail-queue it works for its own instance, whatever
        # $QMAILHOME says.
        code, served = run_qmqpc(front, qq, message,
                                 b"Fa@front.example.test\0Tjoe@example.org\0Tbob@example.net\0\0",
                                 server=(s, central), env={"QMAILHOME": "/nonexistent"})
    assert code == 0
    assert served == [0]
    todo = [f for f in queue_files(central) if f.startswith("todo/")]
    assert len(todo) == 1
    n = int(todo[0][5:])
    mess = central.read(f"queue/mess/{n % SPLIT}/{n}")
    todo = central.read(f"queue/todo/{n}")
    m = re.fullmatch(rb"u(\d+)\0p(\d+)\0Fa@front\.example\.test\0Tjoe@example\.org\0"
                     rb"Tbob@example\.net\0", todo)
    assert m, todo
    uid, pid = int(m.group(1)), int(m.group(2))
    assert uid == central.user.uid
    assert re.fullmatch(rb"Received: \(qmail %d invoked by uid %d\); " % (pid, uid) + DATE
                        + rb"\nReceived: from front\.example\.org \(127\.0\.0\.1\)\n"
                        rb"  by queue\.example\.test with QMQP; " + DATE + rb"\n"
                        + re.escape(message), mess, re.S), mess
    # The front end queued nothing itself.
    assert [f for f in queue_files(front) if f.startswith("todo/")] == []


ENVELOPE = b"Fa@front.example.test\0Tjoe@example.org\0\0"


def test_qmqpc_exit_codes(make_instance):
    front = make_instance(me="front.example.test")
    central = make_instance(me="queue.example.test")
    z_queue, _ = stand_in(central, 53)
    with listener() as s:
        port = s.getsockname()[1]
        good = f"127.0.0.1:{port}\n"
        cases = [
            # name, control/qmqpservers (None: missing), envelope, qmqpd env, exit, served
            ("refused", f"127.0.0.1:{closed_port()}\n", ENVELOPE, {}, 73, 0),
            ("second server", f"127.0.0.1:{closed_port()}\n[127.0.0.1]:{port}\n", ENVELOPE,
             {}, 0, 1),
            ("server says D", good, ENVELOPE, {"DATABYTES": "5"}, 31, 1),
            ("server says Z", good, ENVELOPE, {"QMAILQUEUE": z_queue}, 71, 1),
            ("no qmqpservers", None, ENVELOPE, {}, 55, 0),
            ("no usable line", "queue.example.test\n", ENVELOPE, {}, 55, 0),
            ("envelope format", good, b"Xa@b\0\0", {}, 91, 0),
            ("envelope cut short", good, b"Fa@b\0Tc@d\0", {}, 91, 0),
            ("address too long", good, b"F" + b"a" * 1003 + b"\0\0", {}, 11, 0),
        ]
        for name, servers, envelope, server_env, want, nserved in cases:
            qs = os.path.join(front.path, "control", "qmqpservers")
            if servers is None:
                if os.path.exists(qs):
                    os.unlink(qs)
            else:
                front.write("control/qmqpservers", servers)
            before = len([f for f in queue_files(central) if f.startswith("todo/")])
            code, served = run_qmqpc(front, os.path.join(front.path, "bin", "qmail-qmqpc"),
                                     b"Subject: x\n\nhello\n", envelope, server=(s, central),
                                     server_env=server_env, env={"QMAILHOME": front.path})
            assert code == want, name
            assert served == [0] * nserved, name
            after = len([f for f in queue_files(central) if f.startswith("todo/")])
            assert after - before == (1 if want == 0 else 0), name
