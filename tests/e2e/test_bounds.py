# test_bounds.py: qmail-smtpd's resource bounds against abusive clients: a
# 100 MB line without LF as a command (and 32 MB inside DATA), 100,000 pipelined
# RCPTs, a million header lines, a silent client and a client trickling a
# byte a second. qmail-smtpd runs as tcpserver runs it, one process per
# connection from this file's listener, with a $QMAILQUEUE stand-in that
# records what would be queued.
#
# Memory: while the session is still open, the test reads VmHWM (the peak
# resident size over the process's whole life) from /proc/PID/status of that
# connection's qmail-smtpd and requires it below MEMORY_BOUND. Under
# AddressSanitizer (the sanitizer build of `make test`, detected by libasan
# in the binary's ldd output or __asan_init in the binary) resident size
# says nothing about the program, so only that assertion is skipped.
import os
import socket
import subprocess
import threading
import time

import pytest

MEMORY_BOUND = 64 << 20  # bytes of peak RSS a normal build must stay under
WAIT = 30
GREETING = "example.test"

# Records fd 0 -> N.msg and fd 1 -> N.env; keeps only the sizes and the
# envelope, so a large message costs it no memory.
STANDIN = r'''#!/usr/bin/python3
import os, sys, time
d = sys.argv[0] + ".d"
size = 0
lines = 0
while True:
    chunk = sys.stdin.buffer.read(1 << 20)
    if not chunk:
        break
    size += len(chunk)
    lines += chunk.count(b"\n")
env = b""
while True:
    chunk = os.read(1, 65536)
    if not chunk:
        break
    env += chunk
if not env.endswith(b"\0\0") or not env.startswith(b"F"):
    sys.exit(54)
n = "%020d" % time.monotonic_ns()
with open(os.path.join(d, "tmp"), "wb") as f:
    f.write(b"%d %d\n" % (size, lines) + env)
os.rename(os.path.join(d, "tmp"), os.path.join(d, n))
'''


class Raw:
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

    def closed(self):
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


class Listener:
    """Runs the instance's bin/qmail-smtpd per connection, as tcpserver."""

    def __init__(self, inst, env):
        self.inst = inst
        self.env = env
        self.log = os.path.join(inst.root, "smtpd.log")
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(8)
        self.port = self.lsock.getsockname()[1]
        self.procs = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, addr = self.lsock.accept()
            except OSError:
                return
            env = {"PROTO": "TCP", "TCPREMOTEIP": addr[0], "TCPREMOTEPORT": str(addr[1]),
                   "TCPLOCALIP": "127.0.0.1", "TCPLOCALPORT": str(self.port),
                   "TCPLOCALHOST": "mx.example.test"}
            env.update(self.env)
            with open(self.log, "ab") as log:
                p = self.inst.popen(["qmail-smtpd"], env=env, stdin=conn, stdout=conn,
                                    stderr=log)
            conn.close()
            with self.lock:
                self.procs.append(p)

    def connect(self):
        """(client after the greeting, the session's qmail-smtpd process)."""
        with self.lock:
            n = len(self.procs)
        r = Raw(self.port)
        assert r.reply() == f"220 {GREETING} ESMTP"
        deadline = time.time() + WAIT
        while True:
            with self.lock:
                if len(self.procs) > n:
                    return r, self.procs[n]
            assert time.time() < deadline, "no qmail-smtpd process"
            time.sleep(0.01)

    def close(self):
        self.lsock.close()
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def sanitized(binary):
    r = subprocess.run(["ldd", binary], capture_output=True)
    if b"libasan" in r.stdout:
        return True
    with open(binary, "rb") as f:
        return b"__asan_init" in f.read()


@pytest.fixture
def mx(make_instance):
    inst = make_instance(me=GREETING)
    inst.add_user("joe")
    standin = os.path.join(inst.root, "qq")
    with open(standin, "w") as f:
        f.write(STANDIN)
    os.chmod(standin, 0o755)
    os.makedirs(standin + ".d")
    inst.chown(standin + ".d")
    server = Listener(inst, {"QMAILQUEUE": standin})
    server.qdir = standin + ".d"
    server.sanitized = sanitized(os.path.join(inst.path, "bin", "qmail-smtpd"))
    yield server
    server.close()
    with open(server.log, "rb") as f:
        log = f.read()
    assert log == b"", log  # nothing on stderr, no sanitizer report either


def queued(mx):
    """[(size, lines, envelope)] the stand-in recorded, in order."""
    out = []
    for n in sorted(os.listdir(mx.qdir)):
        with open(os.path.join(mx.qdir, n), "rb") as f:
            head, env = f.read().split(b"\n", 1)
        size, lines = head.split()
        out.append((int(size), int(lines), env))
    return out


def peak_rss(proc):
    """VmHWM of a running process, in bytes."""
    assert proc.poll() is None, "qmail-smtpd is gone"
    with open(f"/proc/{proc.pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def assert_memory_bounded(mx, proc):
    """The session is still open: the peak of its whole life so far."""
    peak = peak_rss(proc)
    if mx.sanitized:
        return
    assert peak < MEMORY_BOUND, f"qmail-smtpd peak RSS {peak >> 20} MiB"


def stream(sock, parts):
    """Sends parts (bytes, or a callable giving an iterator of bytes) from a
    thread, so that replies can be read meanwhile. Returns the thread; its
    .error holds an OSError when the server hung up first."""
    def run():
        try:
            for p in parts:
                sock.sendall(p)
        except OSError as e:
            t.error = e
    t = threading.Thread(target=run, daemon=True)
    t.error = None
    t.start()
    return t


def chunks(total, unit=b"x", size=1 << 20):
    block = unit * (size // len(unit))
    sent = 0
    while sent < total:
        n = min(len(block), total - sent)
        yield block[:n]
        sent += n


def test_100mb_command_line(mx):
    r, proc = mx.connect()
    t0 = time.time()
    t = stream(r.s, [b"NOOP ", *chunks(100 << 20), b"\r\nNOOP\r\n"])
    first = r.reply()
    if first == "500 5.5.2 line too long":
        # Read to its end, then refused; the session goes on.
        assert r.reply() == "250 2.0.0 ok"
        t.join(WAIT)
        assert not t.is_alive() and t.error is None
        assert_memory_bounded(mx, proc)
    else:
        # Or refused at once, and the connection closed.
        assert first[:1] in ("4", "5"), first
        assert r.closed()
    assert time.time() - t0 < WAIT


def test_32mb_line_in_data(mx):
    mx.inst.write("control/databytes", "1000000\n")
    r, proc = mx.connect()
    assert r.cmd("MAIL FROM:<a@example.org>") == "250 2.1.0 ok"
    assert r.cmd("RCPT TO:<joe@example.test>") == "250 2.1.5 ok"
    assert r.cmd("DATA") == "354 go ahead"
    t0 = time.time()
    # 32 MB: the DATA reader looks at every byte, and must stay quick
    # under the sanitizers too.
    t = stream(r.s, [*chunks(32 << 20), b"\r\n.\r\n"])
    assert r.reply() == "552 5.3.4 sorry, that message size exceeds my databytes limit (#5.3.4)"
    t.join(WAIT)
    assert not t.is_alive() and t.error is None
    assert r.cmd("NOOP") == "250 2.0.0 ok"
    assert_memory_bounded(mx, proc)
    assert time.time() - t0 < WAIT
    assert queued(mx) == []


def rcpt_flood(r, count, batch=2000):
    """Pipelines count RCPTs in batches; returns the replies."""
    replies = []
    line = b"RCPT TO:<joe@example.test>\r\n"
    for start in range(0, count, batch):
        n = min(batch, count - start)
        t = stream(r.s, [line * n])
        replies += [r.reply() for _ in range(n)]
        t.join(WAIT)
        assert t.error is None
    return replies


@pytest.mark.parametrize("maxrcpt,limit", [(None, 100), ("1000000", 10000)])
def test_100000_recipients(mx, maxrcpt, limit):
    if maxrcpt:
        mx.inst.write("control/maxrcpt", maxrcpt + "\n")
    r, proc = mx.connect()
    t0 = time.time()
    assert r.cmd("MAIL FROM:<a@example.org>") == "250 2.1.0 ok"
    replies = rcpt_flood(r, 100000)
    assert replies[:limit] == ["250 2.1.5 ok"] * limit
    assert replies[limit:] == ["452 4.5.3 too many recipients"] * (100000 - limit)
    assert r.cmd("DATA") == "354 go ahead"
    r.s.sendall(b"Subject: many\r\n\r\nbody\r\n.\r\n")
    assert r.reply().startswith("250 2.0.0 ok ")
    assert_memory_bounded(mx, proc)
    [(_, _, env)] = queued(mx)
    assert env == b"Fa@example.org\0" + b"Tjoe@example.test\0" * limit + b"\0"
    assert time.time() - t0 < WAIT


def header_lines(count, per_chunk=20000):
    for start in range(0, count, per_chunk):
        yield b"".join(b"X-H%d: v\r\n" % i for i in range(start, min(count, start + per_chunk)))


@pytest.mark.parametrize("databytes", [None, "1000000"])
def test_million_header_lines(mx, databytes):
    if databytes:
        mx.inst.write("control/databytes", databytes + "\n")
    r, proc = mx.connect()
    t0 = time.time()
    assert r.cmd("MAIL FROM:<a@example.org>") == "250 2.1.0 ok"
    assert r.cmd("RCPT TO:<joe@example.test>") == "250 2.1.5 ok"
    assert r.cmd("DATA") == "354 go ahead"
    t = stream(r.s, [*header_lines(1000000), b"\r\nbody\r\n.\r\n"])
    reply = r.reply()
    t.join(WAIT)
    assert not t.is_alive() and t.error is None
    assert r.cmd("NOOP") == "250 2.0.0 ok"
    assert_memory_bounded(mx, proc)
    if databytes:
        assert reply == "552 5.3.4 sorry, that message size exceeds my databytes limit (#5.3.4)"
        assert queued(mx) == []
    else:
        assert reply.startswith("250 2.0.0 ok "), reply
        [(size, lines, env)] = queued(mx)
        # The Received line (2 lines), the headers, the empty line, the body.
        assert lines == 2 + 1000000 + 2, lines
        assert env == b"Fa@example.org\0Tjoe@example.test\0\0"
    assert time.time() - t0 < WAIT


def test_silent_client_times_out(mx):
    mx.inst.write("control/timeoutsmtpd", "2\n")
    r, proc = mx.connect()
    t0 = time.time()
    assert r.reply() == "451 4.4.2 timeout (#4.4.2)"
    elapsed = time.time() - t0
    assert r.closed()
    assert 1.5 <= elapsed < 6, elapsed
    assert proc.wait(WAIT) == 1


def test_trickling_client_cannot_outstay_the_session(mx):
    """One byte a second inside a command: each read is within
    timeoutsmtpd, but the session ends at timeoutsmtpdsession."""
    mx.inst.write("control/timeoutsmtpd", "2\n")
    mx.inst.write("control/timeoutsmtpdsession", "5\n")
    t0 = time.time()
    r, proc = mx.connect()
    stop = threading.Event()

    def trickle():
        try:
            r.s.sendall(b"N")
            for b in b"OOP " + b"x" * 60:
                if stop.wait(1):
                    return
                r.s.sendall(bytes([b]))
        except OSError:
            pass
    t = threading.Thread(target=trickle, daemon=True)
    t.start()
    try:
        assert r.reply() == "421 4.4.2 session time limit exceeded, closing connection"
        assert r.closed()
        elapsed = time.time() - t0
    finally:
        stop.set()
        t.join(WAIT)
    assert 4.5 <= elapsed < 9, elapsed
    assert proc.wait(WAIT) == 1
