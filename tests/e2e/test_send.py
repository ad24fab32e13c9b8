# test_send.py: the real qmail-send on a real queue, without the other
# daemons. The test plays qmail-lspawn and qmail-rspawn over pipes (banner,
# commands, K/Z/D reports) and reads the log on qmail-send's fd 0; the real
# bin/qmail-clean and bin/qmail-queue do their parts. Checks the commands,
# the bytes of the queue files, the log lines and the bounces (QSBMF here;
# test_dsn.py uses this harness for the RFC 3464 bounces).
import fcntl
import math
import os
import queue
import re
import signal
import struct
import subprocess
import threading
import time

import pytest

SPLIT = 23
WAIT = 15  # seconds: the bound of every wait for qmail-send


def demote(user):
    def fn():
        if os.geteuid() == 0:
            os.setgroups([])
            os.setgid(user.gid)
            os.setuid(user.uid)
    return fn


def run_qq(inst, message, sender, recips):
    """Queues a message with the instance's bin/qmail-queue."""
    envelope = b"F" + sender + b"\0" + b"".join(b"T" + r + b"\0" for r in recips) + b"\0"
    r, w = os.pipe()
    try:
        os.write(w, envelope)
        os.close(w)
        w = -1
        p = inst.popen(["qmail-queue"], stdin=subprocess.PIPE, stdout=r, stderr=subprocess.PIPE)
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)
    _, err = p.communicate(message, timeout=60)
    assert p.returncode == 0, err


def qpath(inst, *parts):
    return os.path.join(inst.path, "queue", *parts)


def split(d, n):
    return f"{d}/{n % SPLIT}/{n}"


def read(path):
    with open(path, "rb") as f:
        return f.read()


def queue_files(inst):
    root = os.path.join(inst.path, "queue")
    out = []
    for dirpath, _, files in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        if rel == "lock":
            continue
        out += [os.path.normpath(os.path.join(rel, f)) for f in files]
    return sorted(out)


def wait_until(pred, what, timeout=WAIT):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


class Command:
    def __init__(self, slot, message, sender, recip):
        self.slot, self.message, self.sender, self.recip = slot, message, sender, recip

    def __repr__(self):
        return f"Command({self.slot}, {self.message!r}, {self.sender!r}, {self.recip!r})"


class FakeSpawn:
    """One spawn channel: reads commands, answers with reports, and checks
    that a slot is never reused while its delivery is outstanding."""

    def __init__(self, cmd_fd, rep_fd):
        self.cmd_fd, self.rep_fd = cmd_fd, rep_fd
        self.commands = queue.Queue()
        self.outstanding = set()
        self.max_outstanding = 0
        self.errors = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        buf = b""
        while True:
            try:
                data = os.read(self.cmd_fd, 65536)
            except OSError:
                data = b""
            if not data:
                self.commands.put(None)
                return
            buf += data
            while len(buf) >= 2:
                parts = buf[2:].split(b"\0", 3)
                if len(parts) < 4:
                    break
                slot = buf[0] << 8 | buf[1]
                cmd = Command(slot, parts[0], parts[1], parts[2])
                buf = parts[3]
                with self.lock:
                    if slot in self.outstanding:
                        self.errors.append(f"slot {slot} reused while outstanding")
                    self.outstanding.add(slot)
                    self.max_outstanding = max(self.max_outstanding, len(self.outstanding))
                self.commands.put(cmd)

    def next(self, timeout=WAIT):
        try:
            cmd = self.commands.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no spawn command came")
        assert cmd is not None, "qmail-send closed the command pipe"
        return cmd

    def none_within(self, seconds):
        try:
            cmd = self.commands.get(timeout=seconds)
        except queue.Empty:
            return True
        raise AssertionError(f"unexpected command {cmd!r}")

    def report(self, cmd_or_slot, letter, text=b""):
        slot = cmd_or_slot.slot if isinstance(cmd_or_slot, Command) else cmd_or_slot
        with self.lock:
            self.outstanding.discard(slot)
        os.write(self.rep_fd, struct.pack(">H", slot) + letter + text + b"\0")


class Send:
    """A running qmail-send wired to pipes: fd 0 log, 1/2 lspawn, 3/4 rspawn,
    5/6 the real qmail-clean."""

    def __init__(self, inst, banners=(1000, 1000), no_banner=False):
        self.inst = inst
        self.closed = False
        self.lines = []
        self.cond = threading.Condition()
        keep = []  # our ends
        give = []  # qmail-send's ends, in fd order 0..6
        log_r, log_w = os.pipe()
        lcmd_r, lcmd_w = os.pipe()
        lrep_r, lrep_w = os.pipe()
        rcmd_r, rcmd_w = os.pipe()
        rrep_r, rrep_w = os.pipe()
        ccmd_r, ccmd_w = os.pipe()
        cans_r, cans_w = os.pipe()
        give = [log_w, lcmd_w, lrep_r, rcmd_w, rrep_r, ccmd_w, cans_r]
        keep = {"lcmd": lcmd_r, "lrep": lrep_w, "rcmd": rcmd_r, "rrep": rrep_w}
        if not no_banner:
            os.write(lrep_w, struct.pack(">H", banners[0]))
            os.write(rrep_w, struct.pack(">H", banners[1]))
        self.clean = inst.popen(["qmail-clean"], stdin=ccmd_r, stdout=cans_w)
        os.close(ccmd_r)
        os.close(cans_w)

        user = inst.user

        def wire():
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 100) for fd in give]
            for i, fd in enumerate(high):
                os.dup2(fd, i)
            demote(user)()

        self.proc = subprocess.Popen([os.path.join(inst.path, "bin", "qmail-send")],
                                     env=inst.env(), cwd=inst.path, close_fds=False,
                                     preexec_fn=wire)
        for fd in give:
            os.close(fd)
        self.log_fd = log_r
        self.lspawn = FakeSpawn(lcmd_r, lrep_w)
        self.rspawn = FakeSpawn(rcmd_r, rrep_w)
        self.own = keep
        self.reader = threading.Thread(target=self._read_log, daemon=True)
        self.reader.start()

    def _read_log(self):
        buf = b""
        while True:
            try:
                data = os.read(self.log_fd, 65536)
            except OSError:
                data = b""
            if not data:
                break
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                with self.cond:
                    self.lines.append(line.decode("latin-1"))
                    self.cond.notify_all()
        with self.cond:
            self.lines.append(None)  # end of log
            self.cond.notify_all()

    def wait_log(self, pattern, start=0, timeout=WAIT):
        """The first log line at index >= start matching the regex (full
        match); returns (index, match)."""
        rx = re.compile(pattern)
        deadline = time.time() + timeout
        with self.cond:
            i = start
            while True:
                while i < len(self.lines):
                    line = self.lines[i]
                    if line is None:
                        raise AssertionError(f"log ended without {pattern!r}: {self.lines}")
                    m = rx.fullmatch(line)
                    if m:
                        return i, m
                    i += 1
                left = deadline - time.time()
                if left <= 0:
                    raise AssertionError(f"no log line {pattern!r} in {self.lines}")
                self.cond.wait(left)

    def close_fd(self, name):
        """Closes one of our pipe ends: lcmd, lrep, rcmd, rrep."""
        os.close(self.own.pop(name))

    def settled(self, pattern, start=0):
        """Waits for a delivery's result line and the status line logged
        once its effects (D mark, bounce paragraph) are on disk."""
        i, _ = self.wait_log(pattern, start)
        j, _ = self.wait_log(r"status: .*", i + 1)
        return j

    def log_text(self):
        with self.cond:
            return [l for l in self.lines if l is not None]

    def ready(self):
        self.wait_log(r"status: local 0/\d+ remote 0/\d+")
        return self

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout=WAIT):
        return self.proc.wait(timeout=timeout)

    def close(self):
        if self.closed:
            return
        self.closed = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            # Let running fake deliveries end so TERM can finish.
            for sp in (self.lspawn, self.rspawn):
                with sp.lock:
                    slots = list(sp.outstanding)
                for s in slots:
                    try:
                        sp.report(s, b"Z", b"test over\n")
                    except OSError:
                        pass
            try:
                self.proc.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for name in list(self.own):
            self.close_fd(name)
        try:
            self.clean.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.clean.kill()
            self.clean.wait()
        self.reader.join(timeout=WAIT)
        os.close(self.log_fd)


@pytest.fixture
def sends():
    started = []

    def start(inst, **kw):
        s = Send(inst, **kw)
        started.append(s)
        return s

    yield start
    for s in started:
        s.close()
    for s in started:
        for sp in (s.lspawn, s.rspawn):
            assert not sp.errors, sp.errors


def msgnum(send, start=0):
    i, m = send.wait_log(r"new msg (\d+)", start)
    return i, int(m.group(1))


MESSAGE = b"From: alice@far.test\nSubject: hello\n\nbody line\n"


def test_local_and_remote_deliveries(instance, sends):
    inst = instance
    run_qq(inst, MESSAGE, b"alice@far.test",
           [b"joe@example.test", b"mary@EXAMPLE.test", b"bob@far.test", b"noat"])
    s = sends(inst).ready()
    i, n = msgnum(s)
    mess_size = os.stat(qpath(inst, split("mess", n))).st_size
    s.wait_log(rf"info msg {n}: bytes {mess_size} from <alice@far\.test> qp \d+ "
               rf"uid {inst.user.uid}", i)
    l1, l2, l3 = s.lspawn.next(), s.lspawn.next(), s.lspawn.next()
    r1 = s.rspawn.next()
    # Preprocessed: info and channel files, todo and intd gone.
    assert read(qpath(inst, split("info", n))) == b"Falice@far.test\0"
    assert read(qpath(inst, split("local", n))) == \
        b"Tjoe@example.test\0Tmary@EXAMPLE.test\0Tnoat@example.test\0"
    assert read(qpath(inst, split("remote", n))) == b"Tbob@far.test\0"
    assert not os.path.exists(qpath(inst, "todo", str(n)))
    assert not os.path.exists(qpath(inst, "intd", str(n)))
    want = f"{n % SPLIT}/{n}".encode()
    assert [(c.slot, c.message, c.sender, c.recip) for c in (l1, l2, l3)] == [
        (0, want, b"alice@far.test", b"joe@example.test"),
        (1, want, b"alice@far.test", b"mary@EXAMPLE.test"),
        (2, want, b"alice@far.test", b"noat@example.test")]
    assert (r1.slot, r1.message, r1.sender, r1.recip) == \
        (0, want, b"alice@far.test", b"bob@far.test")
    # The log is read by a thread: wait for the lines rather than race it.
    s.wait_log(re.escape(f"starting delivery 1: msg {n} to local joe@example.test"))
    s.wait_log(re.escape(f"starting delivery 4: msg {n} to remote bob@far.test"))
    s.wait_log(re.escape("status: local 3/10 remote 1/20"))

    # K: the record is marked D in place; Z leaves it T.
    s.lspawn.report(l1, b"K", b"did 1+0+0\n")
    s.settled(r"delivery 1: success: did_1\+0\+0/")
    assert read(qpath(inst, split("local", n))) == \
        b"Djoe@example.test\0Tmary@EXAMPLE.test\0Tnoat@example.test\0"
    s.lspawn.report(l2, b"Z", b"Mailbox busy. (#4.2.1)\n")
    s.wait_log(r"delivery 2: deferral: Mailbox_busy\._\(#4\.2\.1\)/")
    s.lspawn.report(l3, b"K", b"did 0+1+0\n")
    s.settled(r"delivery 3: success: did_0\+1\+0/")
    assert read(qpath(inst, split("local", n))) == \
        b"Djoe@example.test\0Tmary@EXAMPLE.test\0Dnoat@example.test\0"
    s.rspawn.report(r1, b"K", b"192.0.2.7 accepted message.\nRemote host said: 250 ok\n")
    s.wait_log(r"delivery 4: success: 192\.0\.2\.7_accepted_message\./Remote_host_said:_250_ok/")
    wait_until(lambda: not os.path.exists(qpath(inst, split("remote", n))), "remote file unlinked")
    assert os.path.exists(qpath(inst, split("local", n)))

    # ALRM: the deferred recipient is tried again at once, alone.
    s.signal(signal.SIGALRM)
    again = s.lspawn.next()
    assert again.recip == b"mary@EXAMPLE.test"
    s.lspawn.report(again, b"K", b"did 1+0+0\n")
    s.wait_log(rf"end msg {n}")
    wait_until(lambda: queue_files(inst) == [], "an empty queue")
    assert s.proc.poll() is None


def test_permanent_failure_bounces_to_sender(instance, sends):
    # qmail's own QSBMF, byte for byte (test_dsn.py checks the default, dsn).
    inst = instance
    inst.write("control/bounceformat", "qsbmf\n")
    run_qq(inst, MESSAGE, b"alice@far.test", [b"nobody@example.test", b"joe@example.test"])
    s = sends(inst).ready()
    _, n = msgnum(s)
    original = read(qpath(inst, split("mess", n)))
    c1, c2 = s.lspawn.next(), s.lspawn.next()
    assert c1.recip == b"nobody@example.test"
    s.lspawn.report(c1, b"D", b"Sorry, no mailbox here by that name. (#5.1.1)\n")
    s.settled(r"delivery 1: failure: Sorry,_no_mailbox_here_by_that_name\._\(#5\.1\.1\)/")
    # The paragraph is in bounce/N before the record is marked D.
    assert read(qpath(inst, "bounce", str(n))) == \
        b"<nobody@example.test>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n"
    assert read(qpath(inst, split("local", n))) == b"Dnobody@example.test\0Tjoe@example.test\0"
    s.lspawn.report(c2, b"K", b"did 1+0+0\n")

    i, m = s.wait_log(rf"bounce msg {n} qp (\d+)")
    s.wait_log(rf"end msg {n}", i)
    _, b = msgnum(s, i)
    s.wait_log(rf"info msg {b}: bytes \d+ from <> qp \d+ uid \d+")
    cmd = s.rspawn.next()
    assert (cmd.sender, cmd.recip) == (b"", b"alice@far.test")
    assert cmd.message == f"{b % SPLIT}/{b}".encode()
    bounce = read(qpath(inst, "mess", str(b % SPLIT), str(b)))
    received, rest = bounce.split(b"\n", 1)
    assert received.startswith(b"Received: (qmail ")
    date, rest = rest.split(b"\n", 1)
    assert re.fullmatch(rb"Date: \d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d -0000", date), date
    assert rest == (
        b"From: MAILER-DAEMON@example.test\n"
        b"To: alice@far.test\n"
        b"Subject: failure notice\n"
        b"\n"
        b"Hi. This is the qmail-send program at example.test.\n"
        b"I'm afraid I wasn't able to deliver your message to the following addresses.\n"
        b"This is a permanent error; I've given up. Sorry it didn't work out.\n"
        b"\n"
        b"<nobody@example.test>:\n"
        b"Sorry, no mailbox here by that name. (#5.1.1)\n"
        b"\n"
        b"--- Below this line is a copy of the message.\n"
        b"\n"
        b"Return-Path: <alice@far.test>\n" + original)
    assert not os.path.exists(qpath(inst, "bounce", str(n)))
    assert not os.path.exists(qpath(inst, split("mess", n)))


def test_double_and_triple_bounce(instance, sends):
    inst = instance
    inst.write("control/bounceformat", "qsbmf\n")
    inst.write("control/bouncefrom", "Mail Delivery\n")
    inst.write("control/bouncehost", "bounces.example.test\n")
    inst.write("control/doublebounceto", "dbl\n")
    inst.write("control/doublebouncehost", "example.test\n")
    run_qq(inst, MESSAGE, b"", [b"nobody@example.test"])
    s = sends(inst).ready()
    _, n = msgnum(s)
    original = read(qpath(inst, split("mess", n)))
    c = s.lspawn.next()
    assert c.sender == b""
    s.lspawn.report(c, b"D", b"No such user.\n\nReally. (#5.1.1)")
    i, _ = s.wait_log(rf"bounce msg {n} qp \d+")
    _, b = msgnum(s, i)
    s.wait_log(rf"info msg {b}: bytes \d+ from <#@\[\]> qp \d+ uid \d+")
    c = s.lspawn.next()
    assert (c.sender, c.recip) == (b"#@[]", b"dbl@example.test")
    bounce = read(qpath(inst, "mess", str(b % SPLIT), str(b)))
    rest = bounce.split(b"\n", 2)[2]
    assert rest == (
        b"From: \"Mail Delivery\"@bounces.example.test\n"
        b"To: dbl@example.test\n"
        b"Subject: failure notice\n"
        b"\n"
        b"Hi. This is the qmail-send program at bounces.example.test.\n"
        b"I tried to deliver a bounce message to this address, but the bounce bounced!\n"
        b"\n"
        b"<nobody@example.test>:\n"
        b"No such user.\n"
        b"/Really. (#5.1.1)\n"
        b"\n"
        b"--- Below this line is the original bounce.\n"
        b"\n"
        b"Return-Path: <>\n" + original)

    # The double bounce fails too: discarded.
    s.lspawn.report(c, b"D", b"Sorry. (#5.1.1)\n")
    s.wait_log(rf"triple bounce: discarding bounce/{b}")
    s.wait_log(rf"end msg {b}")
    wait_until(lambda: queue_files(inst) == [], "an empty queue")


def test_verp_sender(instance, sends):
    inst = instance
    run_qq(inst, MESSAGE, b"list-@example.test-@[]", [b"joe@example.test", b"bob@far.test"])
    s = sends(inst).ready()
    _, n = msgnum(s)
    lc, rc = s.lspawn.next(), s.rspawn.next()
    assert lc.sender == b"list-joe=example.test@example.test"
    assert rc.sender == b"list-bob=far.test@example.test"
    s.lspawn.report(lc, b"K", b"ok\n")
    s.rspawn.report(rc, b"D", b"Giving up.\n")
    i, _ = s.wait_log(rf"bounce msg {n} qp \d+")
    _, b = msgnum(s, i)
    # The bounce goes to the list's own address, from <>.
    c = s.lspawn.next()
    assert (c.sender, c.recip) == (b"", b"list-@example.test")
    assert b"\nTo: list-@example.test\n" in read(qpath(inst, "mess", str(b % SPLIT), str(b)))


def test_virtualdomains_and_hup(instance, sends):
    inst = instance
    inst.write("control/virtualdomains", "virt.test:vu\n.sub.test:subuser\nno.sub.test:\n")
    run_qq(inst, MESSAGE, b"a@far.test",
           [b"joe@virt.test", b"x@y.sub.test", b"x@no.sub.test"])
    s = sends(inst).ready()
    _, n = msgnum(s)
    c1, c2, c3 = s.lspawn.next(), s.lspawn.next(), s.rspawn.next()
    assert read(qpath(inst, split("local", n))) == b"Tvu-joe@virt.test\0Tsubuser-x@y.sub.test\0"
    assert read(qpath(inst, split("remote", n))) == b"Tx@no.sub.test\0"
    s.lspawn.report(c1, b"D", b"nope\n")  # the bounce paragraph drops the prefix
    i = s.settled(r"delivery \d+: failure: nope/")
    assert read(qpath(inst, "bounce", str(n))) == b"<joe@virt.test>:\nnope\n\n"
    s.lspawn.report(c2, b"Z", b"later\n")
    s.rspawn.report(c3, b"Z", b"later\n")
    s.wait_log(r"status: local 0/10 remote 0/20", i)

    # HUP with an unreadable file keeps the old tables and says so.
    vd = os.path.join(inst.path, "control", "virtualdomains")
    os.chmod(vd, 0)
    if os.geteuid() != 0 and os.access(vd, os.R_OK):
        pytest.skip("cannot make a file unreadable here")
    mark = len(s.log_text())
    s.signal(signal.SIGHUP)
    s.wait_log(r"alert: unable to reread control/virtualdomains", mark)
    # HUP with new tables; the ALRM after it shows the HUP was handled.
    os.chmod(vd, 0o644)
    inst.write("control/virtualdomains", "virt2.test:v2\n", 0o644)
    mark = len(s.log_text())
    s.signal(signal.SIGHUP)
    s.signal(signal.SIGALRM)
    s.lspawn.next()
    s.rspawn.next()
    run_qq(inst, MESSAGE, b"a@far.test", [b"joe@virt2.test", b"joe@virt.test"])
    _, m = msgnum(s, mark)
    s.lspawn.next()
    s.rspawn.next()
    assert read(qpath(inst, split("local", m))) == b"Tv2-joe@virt2.test\0"
    assert read(qpath(inst, split("remote", m))) == b"Tjoe@virt.test\0"


def test_concurrency_is_the_smaller_limit(instance, sends):
    inst = instance
    inst.write("control/concurrencylocal", "2\n")
    run_qq(inst, MESSAGE, b"a@far.test", [b"u%d@example.test" % i for i in range(6)])
    s = sends(inst).ready()
    s.wait_log(r"status: local 0/2 remote 0/20")
    got = [s.lspawn.next(), s.lspawn.next()]
    s.wait_log(r"status: local 2/2 remote 0/20")
    s.lspawn.none_within(0.3)
    seen = []
    while got:
        c = got.pop(0)
        seen.append(c.recip)
        s.lspawn.report(c, b"K", b"ok\n")
        if len(seen) + len(got) < 6:
            got.append(s.lspawn.next())
        assert s.lspawn.max_outstanding <= 2
    assert sorted(seen) == sorted(b"u%d@example.test" % i for i in range(6))
    assert all(not re.search(r"local [3-9]/", l) for l in s.log_text())
    s.close()

    # The banner caps it too: min(concurrencylocal 10, banner 1).
    inst.write("control/concurrencylocal", "10\n")
    s = sends(inst, banners=(1, 300)).ready()
    s.wait_log(r"status: local 0/1 remote 0/20")


def test_term_waits_writes_retry_times_and_restart_finishes(instance, sends):
    inst = instance
    run_qq(inst, MESSAGE, b"a@far.test", [b"joe@example.test", b"mary@example.test"])
    s = sends(inst).ready()
    _, n = msgnum(s)
    c1, c2 = s.lspawn.next(), s.lspawn.next()
    s.lspawn.report(c1, b"Z", b"try later\n")
    s.wait_log(r"delivery 1: deferral: try_later/")
    passed = int(time.time())  # the pass started between birth and now
    # TERM while delivery 2 runs: qmail-send waits for it.
    s.signal(signal.SIGTERM)
    s.lspawn.none_within(0.3)
    assert s.proc.poll() is None
    s.lspawn.report(c2, b"K", b"did 1+0+0\n")
    s.wait_log(r"delivery 2: success: did_1\+0\+0/")
    s.wait_log(r"status: local 0/10 remote 0/20 exitasap")
    s.wait_log(r"status: exiting")
    assert s.wait_exit() == 0
    birth = int(os.stat(qpath(inst, split("info", n))).st_mtime)
    mtime = int(os.stat(qpath(inst, split("local", n))).st_mtime)
    # next = birth + (floor(sqrt(pass - birth)) + 10)^2
    assert mtime in {birth + (math.isqrt(t - birth) + 10) ** 2
                     for t in range(birth, passed + 1)}, (birth, mtime, passed)
    assert read(qpath(inst, split("local", n))) == b"Tjoe@example.test\0Dmary@example.test\0"
    s.close()

    # Restart: rebuilt from info/; nothing is due before the retry time...
    s = sends(inst).ready()
    s.lspawn.none_within(0.3)
    # ...until ALRM.
    s.signal(signal.SIGALRM)
    c = s.lspawn.next()
    assert c.recip == b"joe@example.test"
    s.lspawn.report(c, b"K", b"did 1+0+0\n")
    s.wait_log(rf"end msg {n}")
    wait_until(lambda: queue_files(inst) == [], "an empty queue")


def test_queuelifetime_turns_deferral_into_bounce(instance, sends):
    inst = instance
    run_qq(inst, MESSAGE, b"a@far.test", [b"joe@example.test"])
    s = sends(inst).ready()
    _, n = msgnum(s)
    s.lspawn.report(s.lspawn.next(), b"Z", b"still busy\n")
    i, _ = s.wait_log(r"delivery 1: deferral: still_busy/")
    s.wait_log(r"status: local 0/10 remote 0/20", i)
    old = time.time() - 604800 - 3600
    os.utime(qpath(inst, split("info", n)), (old, old))  # an old message
    s.signal(signal.SIGALRM)
    s.lspawn.report(s.lspawn.next(), b"Z", b"still busy")
    s.wait_log(r"delivery 2: failure: still_busy/I'm_not_going_to_try_again;"
               r"_this_message_has_been_in_the_queue_too_long\./")
    i, _ = s.wait_log(rf"bounce msg {n} qp \d+")
    _, b = msgnum(s, i)
    s.rspawn.next()
    assert (b"<joe@example.test>:\nstill busy\nI'm not going to try again; this message has "
            b"been in the queue too long.\n\n--- Below this line") in \
        read(qpath(inst, "mess", str(b % SPLIT), str(b)))


def test_mangled_and_stray_reports(instance, sends):
    inst = instance
    run_qq(inst, MESSAGE, b"a@far.test", [b"joe@example.test"])
    s = sends(inst).ready()
    _, n = msgnum(s)
    c = s.lspawn.next()
    s.lspawn.report(999, b"K", b"who?\n")
    s.wait_log(r"warning: internal error: delivery report out of range")
    s.lspawn.report(c, b"X", b"garbage")
    s.settled(r"delivery 1: report mangled, will defer")
    assert read(qpath(inst, split("local", n))) == b"Tjoe@example.test\0"
    s.signal(signal.SIGALRM)
    s.lspawn.report(s.lspawn.next(), b"K", b"ok\n")
    s.wait_log(rf"end msg {n}")


def test_refuses_to_start(instance, sends):
    inst = instance
    first = sends(inst).ready()
    second = sends(inst)
    assert second.wait_exit() == 111
    second.wait_log(r"alert: cannot start: qmail-send is already running")
    assert first.proc.poll() is None
    first.close()

    silent = sends(inst, no_banner=True)
    silent.close_fd("lrep")  # lspawn dies without its banner
    assert silent.wait_exit() == 111
    silent.wait_log(r"alert: cannot start: hath the daemon spawn no fire\?")

    os.unlink(os.path.join(inst.path, "control", "locals"))
    os.unlink(os.path.join(inst.path, "control", "me"))
    broken = sends(inst)
    assert broken.wait_exit() == 111
    broken.wait_log(r"alert: cannot start: unable to read controls")


def test_lost_spawn_is_fatal(instance, sends):
    inst = instance
    s = sends(inst).ready()
    s.close_fd("rrep")  # rspawn's report pipe: end of file
    s.wait_log(r"alert: oh no! lost spawn connection! dying\.\.\.")
    s.wait_log(r"status: exiting")
    assert s.wait_exit() == 111


def test_ossified_messages_are_cleaned(instance, sends):
    inst = instance
    # An S3 leftover of a qmail-queue that died 2 days ago, and a young one.
    old_n, young_n = 1000001, 1000002
    for n in (old_n, young_n):
        inst.write(f"queue/{split('mess', n)}", b"partial", 0o644)
        inst.write(f"queue/intd/{n}", b"u1\0", 0o600)
    old = time.time() - 2 * 86400
    os.utime(qpath(inst, split("mess", old_n)), (old, old))
    sends(inst).ready()
    wait_until(lambda: not os.path.exists(qpath(inst, split("mess", old_n))), "cleanup")
    assert not os.path.exists(qpath(inst, "intd", str(old_n)))
    assert os.path.exists(qpath(inst, split("mess", young_n)))
    assert os.path.exists(qpath(inst, "intd", str(young_n)))


def test_lost_qmail_clean_is_fatal_and_nothing_is_lost(instance, sends):
    inst = instance
    s = sends(inst).ready()
    s.clean.kill()
    s.clean.wait()
    run_qq(inst, MESSAGE, b"a@far.test", [b"joe@example.test"])
    _, n = msgnum(s)
    s.wait_log(r"alert: oh no! lost qmail-clean connection! dying\.\.\.")
    s.wait_log(r"status: exiting")
    assert s.wait_exit() == 111
    assert os.path.exists(qpath(inst, "todo", str(n)))  # still queued
    s.close()

    # The next qmail-send preprocesses the message again and delivers it.
    s = sends(inst).ready()
    s.wait_log(rf"new msg {n}")
    c = s.lspawn.next()
    assert c.recip == b"joe@example.test"
    assert read(qpath(inst, split("local", n))) == b"Tjoe@example.test\0"
    s.lspawn.report(c, b"K", b"did 1+0+0\n")
    s.wait_log(rf"end msg {n}")
    wait_until(lambda: queue_files(inst) == [], "an empty queue")
