# test_queue.py: qmail-queue, qmail-clean, qmail-qstat and qmail-qread on a
# real instance, checked byte for byte on disk (docs/INTERNALS.md, S1..S5).
import calendar
import os
import re
import stat
import subprocess
import time

import pytest

SPLIT = 23


def run_qq(inst, message, envelope, extra_env=None):
    """Runs bin/qmail-queue as the instance user: message on fd 0, envelope
    readable on fd 1. Returns (exit code, pid of qmail-queue)."""
    r, w = os.pipe()
    try:
        # The envelope must fit the pipe: we write it all before starting.
        assert len(envelope) < 60000
        os.write(w, envelope)
        os.close(w)
        w = -1
        p = inst.popen(["qmail-queue"], env=extra_env, stdin=subprocess.PIPE, stdout=r,
                       stderr=subprocess.PIPE)
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)
    _, err = p.communicate(message, timeout=60)
    assert err == b"", err
    return p.returncode, p.pid


def queue_files(inst):
    """Every file below queue/ except lock/, as paths relative to queue/."""
    root = os.path.join(inst.path, "queue")
    out = []
    for dirpath, dirs, files in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        if rel == "lock" or rel.startswith("lock/"):
            continue
        out += [os.path.normpath(os.path.join(rel, f)) for f in files]
    return sorted(out)


def date822_window(t0, t1):
    """qmail's date822fmt for every second in [t0, t1]."""
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
              "Dec"]
    out = set()
    for t in range(int(t0), int(t1) + 1):
        g = time.gmtime(t)
        out.add(f"{g.tm_mday} {months[g.tm_mon - 1]} {g.tm_year} "
                f"{g.tm_hour:02d}:{g.tm_min:02d}:{g.tm_sec:02d} -0000")
    return out


def test_message_is_committed_byte_for_byte(instance):
    message = b"From: a@example.org\nSubject: t\n\nbody\x00with nul\nno final newline"
    envelope = b"Fa@example.org\0Tb@example.test\0Tc@example.test\0\0"
    t0 = time.time()
    code, pid = run_qq(instance, message, envelope)
    t1 = time.time()
    assert code == 0

    files = queue_files(instance)
    mess = [f for f in files if f.startswith("mess/")]
    assert len(mess) == 1, files
    n = int(os.path.basename(mess[0]))
    # The layout: mess/S/N with N its inode, intd/N and todo/N one inode.
    assert files == sorted([f"mess/{n % SPLIT}/{n}", f"intd/{n}", f"todo/{n}"])
    q = os.path.join(instance.path, "queue")
    st = os.stat(f"{q}/mess/{n % SPLIT}/{n}")
    assert st.st_ino == n
    assert stat.S_IMODE(st.st_mode) == 0o644
    assert os.stat(f"{q}/todo/{n}").st_ino == os.stat(f"{q}/intd/{n}").st_ino
    assert stat.S_IMODE(os.stat(f"{q}/todo/{n}").st_mode) == 0o644

    data = instance.read(f"queue/mess/{n % SPLIT}/{n}")
    line, rest = data.split(b"\n", 1)
    assert rest == message
    m = re.fullmatch(rb"Received: \(qmail (\d+) invoked by uid (\d+)\); (.*)", line)
    assert m, line
    assert int(m.group(1)) == pid
    assert int(m.group(2)) == instance.user.uid
    assert m.group(3).decode() in date822_window(t0, t1)

    want = (b"u%d\0p%d\0" % (instance.user.uid, pid)) + \
        b"Fa@example.org\0Tb@example.test\0Tc@example.test\0"
    assert instance.read(f"queue/todo/{n}") == want
    assert instance.read(f"queue/intd/{n}") == want


def test_no_recipients_and_big_message(instance):
    message = b"x" * 3_000_000 + b"\n"
    code, pid = run_qq(instance, message, b"F\0\0")
    assert code == 0
    files = queue_files(instance)
    todo = [f for f in files if f.startswith("todo/")]
    n = int(todo[0][5:])
    assert instance.read(f"queue/todo/{n}") == b"u%d\0p%d\0F\0" % (instance.user.uid, pid)
    assert instance.read(f"queue/mess/{n % SPLIT}/{n}").endswith(b"\n" + message)


def test_trigger_is_pulled(instance):
    fifo = os.path.join(instance.path, "queue/lock/trigger")
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        code, _ = run_qq(instance, b"hi\n", b"Fa@b\0Tc@d\0\0")
        assert code == 0
        assert os.read(fd, 10) == b"\0"
    finally:
        os.close(fd)
    # Without a reader (ENXIO) the message is queued all the same.
    code, _ = run_qq(instance, b"hi\n", b"Fa@b\0Tc@d\0\0")
    assert code == 0
    assert len([f for f in queue_files(instance) if f.startswith("todo/")]) == 2


LONG = b"a" * 990 + b"@example.org"   # 1002 bytes: the longest address


@pytest.mark.parametrize("envelope,want", [
    (b"F" + LONG + b"\0T" + LONG + b"\0\0", 0),
    (b"F" + LONG + b"x\0\0", 11),                      # 1003-byte sender
    (b"Fa@b\0T" + LONG + b"x\0\0", 11),                # 1003-byte recipient
    (b"Fa@b\0Tc@d\0", 54),                             # EOF before the final NUL
    (b"Fa@b\0Tc@", 54),                                # EOF inside an address
    (b"", 54),                                         # no envelope at all
    (b"Xa@b\0\0", 91),                                 # wrong lead byte
    (b"Fa@b\0Tc@d\0Xe@f\0\0", 91),
])
def test_envelope_errors_leave_nothing(instance, envelope, want):
    code, _ = run_qq(instance, b"Subject: x\n\nbody\n", envelope)
    assert code == want
    files = queue_files(instance)
    if want == 0:
        assert len(files) == 3
    else:
        # Nothing queued and nothing left: mess, intd, todo and pid are empty.
        assert files == []


def test_missing_queue_directory(instance):
    os.rename(os.path.join(instance.path, "queue/intd"),
              os.path.join(instance.path, "queue/intd.away"))
    code, _ = run_qq(instance, b"x\n", b"Fa@b\0\0")
    assert code == 65
    assert queue_files(instance) == []


def run_clean(inst, commands):
    r = inst.run(["qmail-clean"], input=commands, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_qmail_clean_protocol(instance):
    q = os.path.join(instance.path, "queue")
    for n in (100, 101):
        instance.write(f"queue/mess/{n % SPLIT}/{n}", "message\n")
        instance.write(f"queue/intd/{n}", "u1\0p2\0Fa\0")
        os.link(f"{q}/intd/{n}", f"{q}/todo/{n}")
    # An unlink that fails: intd/102 is a directory with a file in it.
    os.makedirs(f"{q}/intd/102/x")
    instance.chown(f"{q}/intd/102")
    instance.chown(f"{q}/intd/102/x")

    commands = (b"todo/100\0"        # intd + todo go, mess stays
                b"foop/101\0"        # intd + mess go (todo stays: not ours to judge)
                b"foop/999\0"        # nothing there: done all the same
                b"todo/102\0"        # unlink fails: !
                b"bogus/1\0"         # unknown verb
                b"todo/\0"           # too short
                b"todo/12a\0"        # not a number
                + b"todo/" + b"1" * 200 + b"\0"   # too long
                + b"todo/100\0"      # repeated: still +
                + b"todo/7")         # unterminated at EOF: no answer
    assert run_clean(instance, commands) == b"+++!xxxx+"
    files = queue_files(instance)
    assert "mess/8/100" in files and "todo/100" not in files and "intd/100" not in files
    assert "mess/9/101" not in files and "intd/101" not in files and "todo/101" in files


def test_qmail_clean_sweeps_old_pid_files(instance):
    q = os.path.join(instance.path, "queue")
    old = instance.write("queue/pid/4711.1.1", "")
    new = instance.write("queue/pid/4712.1.1", "")
    ages = time.time() - 36 * 3600 - 60
    os.utime(old, (ages, ages))
    assert run_clean(instance, b"") == b""
    assert sorted(os.listdir(f"{q}/pid")) == ["4712.1.1"]
    assert os.path.exists(new)


def test_qmail_qstat(instance):
    for n in (5, 28, 7):
        instance.write(f"queue/mess/{n % SPLIT}/{n}", "m\n")
    instance.write("queue/todo/7", "u1\0p1\0Fa\0")
    r = instance.run(["qmail-qstat"])
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"messages in queue: 3\nmessages in queue but not yet preprocessed: 1\n"


def test_qmail_qstat_counts_real_messages(instance):
    for _ in range(2):
        assert run_qq(instance, b"x\n", b"Fa@b\0Tc@d\0\0")[0] == 0
    r = instance.run(["qmail-qstat"])
    assert r.stdout == b"messages in queue: 2\nmessages in queue but not yet preprocessed: 2\n"


def put_preprocessed(inst, n, sender, local, remote, birth, size, bounce=False):
    """A message in state S5, written by hand."""
    inst.write(f"queue/mess/{n % SPLIT}/{n}", b"m" * size)
    info = inst.write(f"queue/info/{n % SPLIT}/{n}", b"F" + sender + b"\0")
    os.utime(info, (birth, birth))
    if local is not None:
        inst.write(f"queue/local/{n % SPLIT}/{n}", local)
    if remote is not None:
        inst.write(f"queue/remote/{n % SPLIT}/{n}", remote)
    if bounce:
        inst.write(f"queue/bounce/{n}", "bounce text\n")


def test_qmail_qread_format(instance):
    birth = calendar.timegm((2024, 3, 3, 9, 9, 58, 0, 0, 0))
    put_preprocessed(instance, 4711, b"joe@example.org",
                     b"Tu1@example.test\0Du2@example.test\0", b"Tfriend@example.net\0",
                     birth, 1234, bounce=True)
    put_preprocessed(instance, 24, b"", None, b"Dgone@example.net\0Tbad\tname\x01@x\0Tcut",
                     birth + 86400 * 20 + 3600, 7)
    instance.write("queue/info/3/junk", "F\0")  # not a message number: skipped
    r = instance.run(["qmail-qread"])
    assert r.returncode == 0
    # info/1/24 comes before info/19/4711 (subdirectories in order).
    assert r.stdout == (
        b"23 Mar 2024 10:09:58 GMT  #24  7  <> \n"
        b"  done\tremote\tgone@example.net\n"
        b"\tremote\tbad_name_@x\n"
        b"3 Mar 2024 09:09:58 GMT  #4711  1234  <joe@example.org>  bouncing\n"
        b"\tlocal\tu1@example.test\n"
        b"  done\tlocal\tu2@example.test\n"
        b"\tremote\tfriend@example.net\n")


def test_qmail_qread_warns_about_broken_message(instance):
    birth = calendar.timegm((2024, 3, 3, 9, 9, 58, 0, 0, 0))
    put_preprocessed(instance, 50, b"a@b", b"Tc@d\0", None, birth, 3)
    os.unlink(os.path.join(instance.path, "queue/mess/4/50"))
    r = instance.run(["qmail-qread"])
    assert r.returncode == 0
    assert r.stdout == b"warning: trouble with #50: No such file or directory\n"


def test_qmail_qread_lists_what_qmail_queue_made_after_preprocessing(instance):
    # qmail-queue's todo record, preprocessed by hand as qmail-send would.
    code, pid = run_qq(instance, b"Subject: s\n\nhello\n", b"Fs@example.org\0Tr@example.test\0\0")
    assert code == 0
    n = int([f for f in queue_files(instance) if f.startswith("todo/")][0][5:])
    size = len(instance.read(f"queue/mess/{n % SPLIT}/{n}"))
    instance.write(f"queue/info/{n % SPLIT}/{n}", b"Fs@example.org\0")
    instance.write(f"queue/local/{n % SPLIT}/{n}", b"Tr@example.test\0")
    assert run_clean(instance, b"todo/%d\0" % n) == b"+"
    r = instance.run(["qmail-qread"])
    assert re.fullmatch(rb"\d+ \w{3} \d{4} \d\d:\d\d:\d\d GMT  #%d  %d  <s@example.org> \n"
                        rb"\tlocal\tr@example.test\n" % (n, size), r.stdout), r.stdout


def test_killed_qmail_queue_leaves_legal_states(instance):
    """kill -9 while the message (S2) and then the envelope (S3) is being
    read: the queue holds exactly the files of that state, and qmail-clean's
    foop/N takes the debris away (what qmail-send's cleanup does)."""
    q = os.path.join(instance.path, "queue")
    for stage in ("message", "envelope"):
        r, w = os.pipe()
        p = instance.popen(["qmail-queue"], stdin=subprocess.PIPE, stdout=r,
                           stderr=subprocess.DEVNULL)
        os.close(r)
        try:
            p.stdin.write(b"Subject: half\n\n")
            p.stdin.flush()
            if stage == "envelope":
                p.stdin.close()
                os.write(w, b"Fa@b\0Tc@")
                instance.wait_for(lambda: os.listdir(f"{q}/intd"), timeout=20,
                                  what="intd file")
            else:
                instance.wait_for(lambda: any(os.listdir(f"{q}/mess/{s}") for s in range(SPLIT)),
                                  timeout=20, what="mess file")
            p.kill()
            p.wait(timeout=20)
        finally:
            os.close(w)
            if not p.stdin.closed:
                p.stdin.close()
        files = queue_files(instance)
        mess = [f for f in files if f.startswith("mess/")]
        assert len(mess) == 1, files
        n = int(os.path.basename(mess[0]))
        if stage == "message":
            assert files == [f"mess/{n % SPLIT}/{n}"]                          # S2
        else:
            assert files == sorted([f"mess/{n % SPLIT}/{n}", f"intd/{n}"])    # S3
        assert run_clean(instance, b"foop/%d\0" % n) == b"+"
        assert queue_files(instance) == []
