# conftest.py: the e2e harness. Real binaries, a real instance in a temp
# directory, run by a real unprivileged user.
#
# qmail never delivers to root, and CI runs as root: so when the tests run as
# root, every unprivileged instance belongs to, and is run by, the dedicated
# user `qngtest` (created when missing). Run by an ordinary user, the tests
# use that user. The programs are copied to a world-readable directory so the
# test user can run them wherever the build tree is.
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

TEST_USER = "qngtest"


def _bin_source():
    b = os.environ.get("QNG_BIN")
    if not b:
        b = os.path.join(os.path.dirname(__file__), "..", "..", "build", "bin")
    return os.path.abspath(b)


@pytest.fixture(scope="session")
def qng_bin():
    """Directory with the built programs, runnable by the test user."""
    src = _bin_source()
    if os.geteuid() != 0:
        return src
    dst = tempfile.mkdtemp(prefix="qng-bin-", dir="/tmp")
    os.chmod(dst, 0o755)
    for name in os.listdir(src):
        p = os.path.join(src, name)
        if os.path.isfile(p):
            shutil.copy2(p, os.path.join(dst, name))
            os.chmod(os.path.join(dst, name), 0o755)
    yield dst
    shutil.rmtree(dst, ignore_errors=True)


class User:
    def __init__(self, name, uid, gid):
        self.name, self.uid, self.gid = name, uid, gid


@pytest.fixture(scope="session")
def test_user():
    """The unprivileged user that owns and runs test instances."""
    if os.geteuid() != 0:
        pw = pwd.getpwuid(os.geteuid())
        return User(pw.pw_name, pw.pw_uid, pw.pw_gid)
    try:
        pw = pwd.getpwnam(TEST_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--user-group", "--home-dir", "/nonexistent",
                        "--no-create-home", "--shell", "/usr/sbin/nologin", TEST_USER],
                       check=True)
        pw = pwd.getpwnam(TEST_USER)
    return User(pw.pw_name, pw.pw_uid, pw.pw_gid)


def _demote(user):
    def fn():
        if os.geteuid() == 0:
            os.setgroups([])
            os.setgid(user.gid)
            os.setuid(user.uid)
    return fn


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Instance:
    """An unprivileged instance in a temp directory, owned by the test user."""

    def __init__(self, root, path, bindir, user, me):
        self.root = root          # temp dir holding the instance
        self.path = path          # the instance directory
        self.bin = bindir         # programs (the build's, runnable by user)
        self.user = user
        self.me = me

    def env(self, extra=None):
        env = {
            "PATH": f"{self.path}/bin:/usr/bin:/bin",
            "QMAILHOME": self.path,
            "HOME": self.root,
            "LANG": "C",
        }
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        if extra:
            env.update(extra)
        return env

    def run(self, args, input=None, env=None, check=False, timeout=60, cwd=None, **kw):
        """Runs a program as the instance's user. args[0] without a slash is
        looked up in the instance's bin/ directory."""
        if "/" not in args[0]:
            args = [os.path.join(self.path, "bin", args[0])] + list(args[1:])
        if isinstance(input, str):
            input = input.encode()
        return subprocess.run(args, input=input, env=self.env(env), check=check,
                              timeout=timeout, cwd=cwd or self.path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              preexec_fn=_demote(self.user), **kw)

    def popen(self, args, env=None, **kw):
        if "/" not in args[0]:
            args = [os.path.join(self.path, "bin", args[0])] + list(args[1:])
        return subprocess.Popen(args, env=self.env(env), cwd=self.path,
                                preexec_fn=_demote(self.user), **kw)

    def ctl(self, *args, input=None, check=True, timeout=120):
        """qmailctl -d INSTANCE args..."""
        r = self.run([os.path.join(self.bin, "qmailctl"), "-d", self.path, *args],
                     input=input, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"qmailctl {' '.join(args)} exited {r.returncode}: "
                                 f"{r.stdout.decode(errors='replace')}"
                                 f"{r.stderr.decode(errors='replace')}")
        return r

    def write(self, rel, text, mode=0o644):
        """Writes a file inside the instance as the instance's user."""
        p = os.path.join(self.path, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(text.encode() if isinstance(text, str) else text)
        os.chmod(p, mode)
        self.chown(p)
        return p

    def read(self, rel):
        with open(os.path.join(self.path, rel), "rb") as f:
            return f.read()

    def chown(self, p):
        if os.geteuid() == 0:
            os.chown(p, self.user.uid, self.user.gid)

    def add_user(self, name, dotqmail=None):
        """A virtual user NAME@me: home DIR/home/NAME with a Maildir, an
        =NAME line and a +NAME- line in users/assign, cdbs rebuilt. With
        dotqmail, writes home/NAME/.qmail with that text. Returns the home."""
        home = os.path.join(self.path, "home", name)
        os.makedirs(home, exist_ok=True)
        os.chmod(home, 0o700)
        for sub in ("", "/tmp", "/new", "/cur"):
            os.makedirs(home + "/Maildir" + sub, exist_ok=True)
            os.chmod(home + "/Maildir" + sub, 0o700)
        for dirpath, dirs, files in os.walk(home):
            self.chown(dirpath)
        if dotqmail is not None:
            self.write(f"home/{name}/.qmail", dotqmail, 0o600)
        assign = os.path.join(self.path, "users", "assign")
        lines = []
        if os.path.exists(assign):
            with open(assign) as f:
                lines = [l for l in f.read().splitlines() if l != "."]
        u = self.user
        lines.append(f"={name}:{u.name}:{u.uid}:{u.gid}:{home}:::")
        lines.append(f"+{name}-:{u.name}:{u.uid}:{u.gid}:{home}:-::")
        self.write("users/assign", "\n".join(lines) + "\n.\n")
        self.ctl("cdb")
        return home

    def maildir_messages(self, maildir):
        """Contents of every message in maildir/new and maildir/cur, by name."""
        out = {}
        for sub in ("new", "cur"):
            d = os.path.join(maildir, sub)
            if os.path.isdir(d):
                for n in sorted(os.listdir(d)):
                    with open(os.path.join(d, n), "rb") as f:
                        out[f"{sub}/{n}"] = f.read()
        return out

    def wait_for(self, predicate, timeout=30, interval=0.05, what="condition"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            v = predicate()
            if v:
                return v
            time.sleep(interval)
        raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def make_instance(qng_bin, test_user):
    """Factory: make_instance(me="example.test", args=[...]) -> Instance."""
    made = []

    def make(me="example.test", args=()):
        root = tempfile.mkdtemp(prefix="qng-e2e-", dir="/tmp")
        os.chmod(root, 0o755)
        if os.geteuid() == 0:
            os.chown(root, test_user.uid, test_user.gid)
        path = os.path.join(root, "inst")
        inst = Instance(root, path, qng_bin, test_user, me)
        r = inst.run([os.path.join(qng_bin, "qmailctl"), "init", path, "--me", me, *args],
                     cwd=root)
        assert r.returncode == 0, (r.stdout + r.stderr).decode(errors="replace")
        made.append(inst)
        return inst

    yield make
    for inst in made:
        try:
            inst.ctl("stop", check=False, timeout=60)
        except Exception:
            pass
        shutil.rmtree(inst.root, ignore_errors=True)


@pytest.fixture
def instance(make_instance):
    """A fresh unprivileged instance with me = example.test."""
    return make_instance()
