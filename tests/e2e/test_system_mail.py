# test_system_mail.py: privilege separation in a system instance (run as
# root only): each daemon under qmail's uid for it, qmail-queue the only
# setuid program, queue files owned as qmail owns them, and mail delivered
# to an unprivileged user's Maildir.
import os
import pwd
import re
import shutil
import stat
import subprocess
import tempfile
import time

import pytest

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="system instances need root")


def proc_uid(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])  # real uid
    raise AssertionError(f"no Uid line for {pid}")


def proc_children(pid):
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                out.append(int(p))
        except (FileNotFoundError, ProcessLookupError, IndexError):
            pass
    return out


def proc_name(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return os.path.basename(f.read().split(b"\0")[0].decode())


@pytest.fixture
def system_instance(qng_bin, test_user):
    root = tempfile.mkdtemp(prefix="qng-sys-", dir="/tmp")
    os.chmod(root, 0o755)
    path = os.path.join(root, "qmail")
    r = subprocess.run([os.path.join(qng_bin, "qmailctl"), "init", "--system", path,
                        "--me", "sys.test"], capture_output=True)
    assert r.returncode == 0, (r.stdout + r.stderr).decode(errors="replace")
    yield path, test_user
    subprocess.run([os.path.join(path, "bin", "qmailctl"), "-d", path, "stop"],
                   capture_output=True, timeout=90)
    shutil.rmtree(root, ignore_errors=True)


def test_daemons_run_under_their_own_uids(system_instance):
    path, user = system_instance
    home = os.path.join(path, "home", "vic")
    for sub in ("", "/Maildir", "/Maildir/tmp", "/Maildir/new", "/Maildir/cur"):
        os.makedirs(home + sub, mode=0o700, exist_ok=True)
        os.chown(home + sub, user.uid, user.gid)
    with open(os.path.join(path, "users", "assign"), "w") as f:
        f.write(f"=vic:{user.name}:{user.uid}:{user.gid}:{home}:::\n.\n")
    ctl = os.path.join(path, "bin", "qmailctl")
    subprocess.run([ctl, "-d", path, "cdb"], check=True, capture_output=True)
    r = subprocess.run([ctl, "-d", path, "start"], capture_output=True, timeout=60)
    assert r.returncode == 0, (r.stdout + r.stderr).decode(errors="replace")

    # qmail-inject run by the unprivileged user: qmail-queue is setuid qmailq.
    def as_user():
        os.setgroups([])
        os.setgid(user.gid)
        os.setuid(user.uid)

    r = subprocess.run([os.path.join(path, "bin", "qmail-inject"), "vic@sys.test"],
                       input=b"Subject: sys\n\nprivileges\n", preexec_fn=as_user,
                       env={"PATH": "/usr/bin:/bin", "QMAILHOME": path}, capture_output=True)
    assert r.returncode == 0, r.stderr

    deadline = time.time() + 30
    while time.time() < deadline and not os.listdir(home + "/Maildir/new"):
        time.sleep(0.05)
    (name,) = os.listdir(home + "/Maildir/new")
    p = os.path.join(home, "Maildir", "new", name)
    assert os.stat(p).st_uid == user.uid
    data = open(p, "rb").read()
    assert b"Delivered-To: vic@sys.test\n" in data
    assert re.search(rb"Received: \(qmail \d+ invoked by uid %d\)" % user.uid, data)

    uid = {n: pwd.getpwnam(n).pw_uid for n in ("qmails", "qmailr", "qmailq", "qmaill")}
    send_pid = int(open(os.path.join(path, "supervise", "qmail-send.pid")).read())
    assert proc_name(send_pid) == "qmail-send"
    assert proc_uid(send_pid) == uid["qmails"]
    # qmail-start forked the helpers before it became qmail-send.
    kids = {proc_name(k): proc_uid(k) for k in proc_children(send_pid)}
    assert kids.get("qmail-lspawn") == 0, kids
    assert kids.get("qmail-rspawn") == uid["qmailr"], kids
    assert kids.get("qmail-clean") == uid["qmailq"], kids
    assert kids.get("qmail-logger") == uid["qmaill"], kids

    # Only qmail-queue is setuid; queue directories owned as qmail's.
    bindir = os.path.join(path, "bin")
    setuid = [n for n in os.listdir(bindir)
              if os.stat(os.path.join(bindir, n)).st_mode & (stat.S_ISUID | stat.S_ISGID)]
    assert setuid == ["qmail-queue"]
    st = os.stat(os.path.join(bindir, "qmail-queue"))
    assert st.st_uid == uid["qmailq"] and stat.S_IMODE(st.st_mode) == 0o4711
    q = os.path.join(path, "queue")
    assert os.stat(os.path.join(q, "mess")).st_uid == uid["qmailq"]
    assert os.stat(os.path.join(q, "todo")).st_uid == uid["qmailq"]
    assert os.stat(os.path.join(q, "info")).st_uid == uid["qmails"]
    assert os.stat(os.path.join(q, "local")).st_uid == uid["qmails"]

    r = subprocess.run([ctl, "-d", path, "stop"], capture_output=True, timeout=90)
    assert r.returncode == 0, r.stderr
