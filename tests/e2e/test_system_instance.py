# test_system_instance.py: qmailctl init --system: qmail's users, groups,
# owners and modes. Needs root; it adds qmail's accounts when missing.
import grp
import os
import pwd
import shutil
import stat
import subprocess
import tempfile

import pytest

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="init --system needs root (it creates qmail's users)")

USERS = {"alias": "nofiles", "qmaild": "nofiles", "qmaill": "nofiles", "qmailp": "nofiles",
         "qmailq": "qmail", "qmailr": "qmail", "qmails": "qmail"}


@pytest.fixture
def sysdir(qng_bin):
    root = tempfile.mkdtemp(prefix="qng-sys-", dir="/tmp")
    os.chmod(root, 0o755)
    path = os.path.join(root, "qmail")
    r = subprocess.run([os.path.join(qng_bin, "qmailctl"), "init", "--system", path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    assert r.returncode == 0, (r.stdout + r.stderr).decode(errors="replace")
    yield path
    shutil.rmtree(root, ignore_errors=True)


def owner(path):
    st = os.lstat(path)
    return pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name, \
        stat.S_IMODE(st.st_mode)


def test_system_users_and_groups(sysdir):
    for g in ("qmail", "nofiles"):
        grp.getgrnam(g)
    for user, group in USERS.items():
        pw = pwd.getpwnam(user)
        assert pw.pw_uid != 0, user
    # Made by us (not there before) or not: alias's group is nofiles.
    assert grp.getgrgid(pwd.getpwnam("qmailq").pw_gid).gr_name == "qmail"
    assert grp.getgrgid(pwd.getpwnam("alias").pw_gid).gr_name == "nofiles"


def test_system_owners_and_modes(sysdir, qng_bin):
    want = {
        "": ("root", "qmail", 0o755),
        "bin": ("root", "qmail", 0o755),
        "control": ("root", "qmail", 0o755),
        "users": ("root", "qmail", 0o755),
        "alias": ("alias", "qmail", 0o2755),
        "queue": ("qmailq", "qmail", 0o750),
        "queue/pid": ("qmailq", "qmail", 0o700),
        "queue/intd": ("qmailq", "qmail", 0o700),
        "queue/todo": ("qmailq", "qmail", 0o750),
        "queue/mess": ("qmailq", "qmail", 0o750),
        "queue/mess/0": ("qmailq", "qmail", 0o750),
        "queue/mess/22": ("qmailq", "qmail", 0o750),
        "queue/info": ("qmails", "qmail", 0o700),
        "queue/info/5": ("qmails", "qmail", 0o700),
        "queue/local": ("qmails", "qmail", 0o700),
        "queue/local/22": ("qmails", "qmail", 0o700),
        "queue/remote": ("qmails", "qmail", 0o700),
        "queue/remote/0": ("qmails", "qmail", 0o700),
        "queue/bounce": ("qmails", "qmail", 0o700),
        "queue/lock": ("qmailq", "qmail", 0o750),
        "queue/lock/tcpto": ("qmailr", "qmail", 0o644),
        "queue/lock/sendmutex": ("qmails", "qmail", 0o600),
        "queue/lock/trigger": ("qmails", "qmail", 0o622),
        "log/qmail-send": ("qmaill", "nofiles", 0o755),
        "control/me": ("root", "qmail", 0o644),
        "users/assign": ("root", "qmail", 0o644),
        "alias/.qmail-postmaster": ("alias", "nofiles", 0o644),
        "alias/Maildir/new": ("alias", "nofiles", 0o700),
    }
    for rel, w in want.items():
        assert owner(os.path.join(sysdir, rel)) == w, rel
    assert stat.S_ISFIFO(os.lstat(os.path.join(sysdir, "queue/lock/trigger")).st_mode)
    assert os.path.getsize(os.path.join(sysdir, "queue/lock/tcpto")) == 1024
    assert os.path.exists(os.path.join(sysdir, "alias/.qmail-root"))
    assert os.path.exists(os.path.join(sysdir, "alias/.qmail-mailer-daemon"))
    for name in os.listdir(qng_bin):
        p = os.path.join(sysdir, "bin", name)
        if name == "qmail-queue":
            assert owner(p) == ("qmailq", "qmail", 0o4711)
        else:
            assert owner(p) == ("root", "qmail", 0o755), name


def test_system_qmail_queue_is_setuid(sysdir, qng_bin):
    if not os.path.exists(os.path.join(qng_bin, "qmail-queue")):
        pytest.fail("qmail-queue is not built")
    st = os.stat(os.path.join(sysdir, "bin/qmail-queue"))
    assert st.st_uid == pwd.getpwnam("qmailq").pw_uid
    assert stat.S_IMODE(st.st_mode) == 0o4711


def test_system_refuses_nonempty_and_non_root(sysdir, qng_bin, test_user):
    r = subprocess.run([os.path.join(qng_bin, "qmailctl"), "init", "--system", sysdir],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert r.returncode == 100 and b"not empty" in r.stderr

    def demote():
        os.setgroups([])
        os.setgid(test_user.gid)
        os.setuid(test_user.uid)
    r = subprocess.run([os.path.join(qng_bin, "qmailctl"), "init", "--system", "/tmp/qng-nope"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=demote)
    assert r.returncode == 100 and b"root" in r.stderr
    assert not os.path.exists("/tmp/qng-nope")


def test_system_stat(sysdir, qng_bin):
    r = subprocess.run([os.path.join(qng_bin, "qmailctl"), "-d", sysdir, "stat"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert r.returncode == 0, r.stderr
    assert r.stdout == (b"qmail-send: down\nmessages in queue: 0\n"
                        b"messages in queue but not yet preprocessed: 0\n")
