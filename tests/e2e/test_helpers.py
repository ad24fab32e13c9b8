# test_helpers.py: the .qmail helper programs run as qmail-local runs them
# (message on a seekable fd 0, qmail-local's environment): forward,
# condredirect, bouncesaying, except, preline, maildirmake, maildir2mbox.
# Exit codes, outputs, and the bytes they queue (through a $QMAILQUEUE
# stand-in recording fd 0 and fd 1) or write.
import os
import re
import shutil
import stat
import subprocess
import tempfile

import pytest

MESSAGE = b"Subject: hi\n\nFrom me\nbody\n"
DT = "Delivered-To: joe@example.test\n"
RP = "Return-Path: <alice@example.org>\n"
UF = "From alice@example.org Sun Mar 03 09:05:01 2024\n"


class Box:
    """A scratch directory owned by the test user, and a runner."""

    def __init__(self, path, bindir, user):
        self.path, self.bin, self.user = path, bindir, user
        self.n = 0

    def p(self, rel):
        return os.path.join(self.path, rel)

    def chown(self, p):
        if os.geteuid() == 0:
            os.chown(p, self.user.uid, self.user.gid)

    def write(self, rel, data, mode=0o644):
        p = self.p(rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        os.chmod(p, mode)
        self.chown(p)
        return p

    def read(self, rel):
        with open(self.p(rel), "rb") as f:
            return f.read()

    def run(self, args, message=MESSAGE, env=None, seekable=True):
        user = self.user

        def demote():
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(user.gid)
                os.setuid(user.uid)

        full_env = {"PATH": f"{self.bin}:/usr/bin:/bin", "LANG": "C", "HOME": self.path,
                    "QMAILHOME": self.path}
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                full_env[k] = os.environ[k]
        full_env.update(env or {})
        args = [os.path.join(self.bin, args[0])] + list(args[1:])
        kw = dict(env=full_env, cwd=self.path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                  preexec_fn=demote, timeout=30)
        if not seekable:
            return subprocess.run(args, input=message, **kw)
        self.n += 1
        mp = self.write(f"msg.{self.n}", message)
        with open(mp, "rb") as f:
            return subprocess.run(args, stdin=f, **kw)


@pytest.fixture
def box(qng_bin, test_user):
    d = tempfile.mkdtemp(prefix="qng-helpers-", dir="/tmp")
    os.chmod(d, 0o755)
    b = Box(d, qng_bin, test_user)
    b.chown(d)
    yield b
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def queue(box):
    """$QMAILQUEUE stand-in: records the message and the envelope."""
    script = box.write("fake-qq", "#!/bin/sh\n"
                       f"cat > {box.path}/qq.msg || exit 54\n"
                       f"cat <&1 > {box.path}/qq.env || exit 54\n"
                       f"[ -f {box.path}/qq.code ] && exit $(cat {box.path}/qq.code)\n"
                       "exit 0\n", 0o755)
    return {"QMAILQUEUE": script}


def err(r):
    return r.stderr.decode(errors="replace")


def out(r):
    return r.stdout.decode(errors="replace")


# ---- forward

def test_forward(box, queue):
    env = dict(queue, NEWSENDER="owner@example.test", DTLINE=DT, SENDER="alice@example.org")
    r = box.run(["forward", "bob@example.org", "carol@example.net"], env=env)
    assert r.returncode == 0, err(r)
    assert re.fullmatch(r"forward: qp [1-9][0-9]*\n", err(r)), err(r)
    assert box.read("qq.msg") == DT.encode() + MESSAGE
    assert box.read("qq.env") == b"Fowner@example.test\0Tbob@example.org\0Tcarol@example.net\0\0"
    # Reads from where fd 0 stands: a pipe is fine.
    r = box.run(["forward", "bob@example.org"], env=env, seekable=False)
    assert r.returncode == 0, err(r)
    assert box.read("qq.msg") == DT.encode() + MESSAGE


def test_forward_failures(box, queue):
    r = box.run(["forward", "bob@example.org"], env=dict(queue, DTLINE=DT))
    assert (r.returncode, err(r)) == (100, "forward: fatal: NEWSENDER not set\n")
    r = box.run(["forward", "bob@example.org"], env=dict(queue, NEWSENDER="x@y"))
    assert (r.returncode, err(r)) == (100, "forward: fatal: DTLINE not set\n")
    r = box.run(["forward"], env=dict(queue, NEWSENDER="x@y", DTLINE=DT))
    assert r.returncode == 100 and "usage" in err(r)
    box.write("qq.code", "31")
    r = box.run(["forward", "b@c"], env=dict(queue, NEWSENDER="x@y", DTLINE=DT))
    assert (r.returncode, err(r)) == (
        100, "forward: fatal: mail server permanently rejected message (#5.3.0)\n")
    box.write("qq.code", "53")
    r = box.run(["forward", "b@c"], env=dict(queue, NEWSENDER="x@y", DTLINE=DT))
    assert (r.returncode, err(r)) == (111, "forward: fatal: qq write error or disk full (#4.3.0)\n")


# ---- condredirect

def test_condredirect(box, queue):
    env = dict(queue, SENDER="alice@example.org", NEWSENDER="other@x", DTLINE=DT)
    # The program reads the message; condredirect rewinds and sends it whole.
    r = box.run(["condredirect", "bob@example.org", "sh", "-c", "grep -q '^From me' && echo yes"],
                env=env)
    assert r.returncode == 99, err(r)
    assert out(r) == "yes\n"
    assert re.fullmatch(r"condredirect: qp [1-9][0-9]*\n", err(r)), err(r)
    assert box.read("qq.msg") == DT.encode() + MESSAGE
    assert box.read("qq.env") == b"Falice@example.org\0Tbob@example.org\0\0"
    os.unlink(box.p("qq.env"))
    r = box.run(["condredirect", "bob@example.org", "false"], env=env)
    assert (r.returncode, err(r)) == (0, "")
    assert not os.path.exists(box.p("qq.env"))
    r = box.run(["condredirect", "bob@example.org", "sh", "-c", "exit 111"], env=env)
    assert (r.returncode, err(r)) == (111, "condredirect: fatal: temporary child error\n")
    r = box.run(["condredirect", "bob@example.org", "sh", "-c", "kill -9 $$"], env=env)
    assert (r.returncode, err(r)) == (111, "condredirect: fatal: child crashed\n")
    r = box.run(["condredirect", "bob@example.org", "no-such-program-here"], env=env)
    assert r.returncode == 0                            # exec failed: 100, so no redirect
    r = box.run(["condredirect", "bob@example.org"], env=env)
    assert r.returncode == 100 and "usage" in err(r)
    r = box.run(["condredirect", "bob@example.org", "true"], env=dict(queue, DTLINE=DT))
    assert (r.returncode, err(r)) == (100, "condredirect: fatal: SENDER not set\n")


# ---- bouncesaying and except

def test_bouncesaying(box):
    r = box.run(["bouncesaying", "This address is no longer in use."])
    assert (r.returncode, err(r)) == (100, "This address is no longer in use.\n")
    r = box.run(["bouncesaying", "Go away.", "true"])
    assert (r.returncode, err(r)) == (100, "Go away.\n")
    r = box.run(["bouncesaying", "Go away.", "false"])
    assert (r.returncode, err(r)) == (0, "")
    r = box.run(["bouncesaying", "Go away.", "sh", "-c", "exit 111"])
    assert (r.returncode, err(r)) == (111, "bouncesaying: fatal: temporary child error\n")
    r = box.run(["bouncesaying"])
    assert r.returncode == 100 and "usage" in err(r)


def test_except(box):
    cases = [(["true"], 100), (["false"], 0), (["sh", "-c", "exit 111"], 111),
             (["sh", "-c", "exit 100"], 0), (["sh", "-c", "exit 99"], 0),
             (["no-such-program-here"], 0)]
    for args, code in cases:
        r = box.run(["except", *args])
        assert r.returncode == code, args
    r = box.run(["except", "sh", "-c", "kill -9 $$"])
    assert (r.returncode, err(r)) == (111, "except: fatal: child crashed\n")
    r = box.run(["except"])
    assert r.returncode == 100 and "usage" in err(r)


# ---- preline

def test_preline(box):
    env = {"UFLINE": UF, "RPLINE": RP, "DTLINE": DT}
    r = box.run(["preline", "cat"], env=env)
    assert r.returncode == 0, err(r)
    assert r.stdout == (UF + RP + DT).encode() + MESSAGE
    cases = [(["-d"], UF + RP), (["-f"], RP + DT), (["-r"], UF + DT), (["-frd"], ""),
             (["-f", "-F"], UF + RP + DT), (["-d", "--"], UF + RP)]
    for opts, head in cases:
        r = box.run(["preline", *opts, "cat"], env=env)
        assert r.stdout == head.encode() + MESSAGE, opts
    # The command's own options stay its own.
    r = box.run(["preline", "sh", "-c", "cat >/dev/null; exit 7", "-d"], env=env)
    assert r.returncode == 7
    r = box.run(["preline", "no-such-program-here"], env=env)
    assert r.returncode == 100
    assert err(r).startswith("preline: fatal: unable to run no-such-program-here: ")
    r = box.run(["preline", "cat"], env={"UFLINE": UF, "RPLINE": RP})
    assert r.returncode == 100 and "usage" in err(r)
    r = box.run(["preline"], env=env)
    assert r.returncode == 100 and "usage" in err(r)


# ---- maildirmake

def test_maildirmake(box):
    r = box.run(["maildirmake", "Maildir"])
    assert (r.returncode, err(r)) == (0, "")
    for d in ("Maildir", "Maildir/tmp", "Maildir/new", "Maildir/cur"):
        st = os.stat(box.p(d))
        assert stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o700, d
    r = box.run(["maildirmake", "Maildir"])
    assert r.returncode == 111
    assert err(r).startswith("maildirmake: fatal: unable to mkdir Maildir: ")
    r = box.run(["maildirmake"])
    assert r.returncode == 100 and "usage" in err(r)


# ---- maildir2mbox

T1 = 1709456701   # Sun Mar 03 09:05:01 2024 UTC
T2 = 1709460000   # Sun Mar 03 10:00:00 2024 UTC
T3 = 1709470000   # Sun Mar 03 12:46:40 2024 UTC


def put(box, rel, data, mtime):
    p = box.write(rel, data, 0o600)
    os.utime(p, (mtime, mtime))
    return p


def test_maildir2mbox(box):
    assert box.run(["maildirmake", "Maildir"]).returncode == 0
    box.write("mbox", b"old contents\n\n", 0o600)
    put(box, "Maildir/cur/b:2,S", b"Return-Path: <>\nSubject: two\n\n>From x\n", T2)
    put(box, "Maildir/new/a", b"Return-Path: <a b@c>\nSubject: one\n\nFrom me\n", T1)
    put(box, "Maildir/new/c", b"Subject: three\n\nno newline", T3)
    put(box, "Maildir/new/.hidden", b"skipped\n", T1)
    env = {"MAILDIR": box.p("Maildir"), "MAIL": box.p("mbox"), "MAILTMP": box.p("mbox.tmp")}
    r = box.run(["maildir2mbox"], env=env)
    assert (r.returncode, err(r)) == (0, "")
    assert box.read("mbox") == (
        b"old contents\n\n"
        b"From a-b@c Sun Mar 03 09:05:01 2024\n"
        b"Return-Path: <a b@c>\nSubject: one\n\n>From me\n\n"
        b"From MAILER-DAEMON Sun Mar 03 10:00:00 2024\n"
        b"Return-Path: <>\nSubject: two\n\n>>From x\n\n"
        b"From XXX Sun Mar 03 12:46:40 2024\n"
        b"Subject: three\n\nno newline\n\n")
    assert not os.path.exists(box.p("mbox.tmp"))
    assert sorted(os.listdir(box.p("Maildir/new"))) == [".hidden"]
    assert os.listdir(box.p("Maildir/cur")) == []
    # Nothing new: nothing changes.
    r = box.run(["maildir2mbox"], env=env)
    assert r.returncode == 0
    assert box.read("mbox").startswith(b"old contents\n\nFrom a-b@c")


def test_maildir2mbox_creates_mbox_and_fails_safely(box):
    assert box.run(["maildirmake", "Maildir"]).returncode == 0
    put(box, "Maildir/new/a", b"Return-Path: <x@y>\n\nhi\n", T1)
    env = {"MAILDIR": box.p("Maildir"), "MAIL": box.p("mbox"),
           "MAILTMP": box.p("no/such/dir/tmp")}
    r = box.run(["maildir2mbox"], env=env)
    assert r.returncode == 111
    assert err(r).startswith("maildir2mbox: fatal: unable to create " + box.p("no/such/dir/tmp"))
    assert os.listdir(box.p("Maildir/new")) == ["a"]      # nothing lost
    env["MAILTMP"] = box.p("mbox.tmp")
    r = box.run(["maildir2mbox"], env=env)
    assert r.returncode == 0, err(r)
    assert box.read("mbox") == b"From x@y Sun Mar 03 09:05:01 2024\nReturn-Path: <x@y>\n\nhi\n\n"
    assert stat.S_IMODE(os.stat(box.p("mbox")).st_mode) == 0o600
    for name in ("MAIL", "MAILTMP", "MAILDIR"):
        e = dict(env)
        del e[name]
        r = box.run(["maildir2mbox"], env=e)
        assert (r.returncode, err(r)) == (111, f"maildir2mbox: fatal: {name} not set\n")
