# test_install.py: `make install` (scripts/install.sh) into a DESTDIR, the
# systemd units of etc/systemd/ and the run directories of
# scripts/mkservice.sh: the tree, the units' syntax, and the command lines
# they run, run for real on an unprivileged instance.
import configparser
import os
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import _demote, free_port

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
INSTALL = os.path.join(REPO, "scripts", "install.sh")
MKSERVICE = os.path.join(REPO, "scripts", "mkservice.sh")
UNITS = os.path.join(REPO, "etc", "systemd")
SERVICES = ["qmail-send", "qmail-smtpd", "qmail-pop3d", "qmail-qmtpd", "qmail-qmqpd"]


def sh(args, **kw):
    r = subprocess.run(["/bin/sh", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60, **kw)
    assert r.returncode == 0, (r.stdout + r.stderr).decode(errors="replace")
    return r


@pytest.fixture(scope="module")
def destdir(qng_bin):
    """`install.sh --prefix /usr --destdir D` of the programs under test."""
    d = tempfile.mkdtemp(prefix="qng-install-", dir="/tmp")
    os.chmod(d, 0o755)  # the test user runs the installed qmailctl
    sh([INSTALL, "--prefix", "/usr", "--destdir", d, "--bindir", qng_bin])
    yield d
    shutil.rmtree(d, ignore_errors=True)


def load_unit(path):
    cp = configparser.ConfigParser(interpolation=None, strict=True)
    cp.optionxform = str
    with open(path) as f:
        cp.read_file(f)
    return cp


def exec_start_script(unit_text):
    """The shell text of `ExecStart=/bin/sh -c '...'` as systemd hands it to
    sh: continued lines joined, the quotes removed, $$ and %% undone."""
    lines = unit_text.split("\n")
    i = next(n for n, l in enumerate(lines) if l.startswith("ExecStart="))
    cmd = ""
    while True:
        line = lines[i]
        if line.endswith("\\"):
            cmd += line[:-1] + " "
            i += 1
            continue
        cmd += line
        break
    cmd = cmd[len("ExecStart="):]
    prefix = "/bin/sh -c '"
    assert cmd.startswith(prefix) and cmd.endswith("'"), cmd
    body = cmd[len(prefix):-1]
    assert "'" not in body
    return body.replace("$$", "$").replace("%%", "%")


def banner(port, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                data = b""
                while b"\n" not in data:
                    got = s.recv(512)
                    if not got:
                        break
                    data += got
                return data
        except OSError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


def process_argvs():
    out = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    out.append(f.read().split(b"\0")[:-1])
            except OSError:
                pass
    return out


def stop_group(p):
    try:
        os.killpg(p.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait(timeout=10)


def test_tree(destdir, qng_bin):
    lib = os.path.join(destdir, "usr/lib/qmail-ng/bin")
    programs = sorted(n for n in os.listdir(qng_bin)
                      if os.path.isfile(os.path.join(qng_bin, n)))
    assert sorted(os.listdir(lib)) == programs
    for name in ["qmail-queue", "qmail-send", "qmail-smtpd", "tcpserver", "qmailctl"]:
        assert name in programs
    for name in programs:
        st = os.stat(os.path.join(lib, name))
        assert stat.S_IMODE(st.st_mode) == 0o755, name  # no setuid outside an instance
    link = os.path.join(destdir, "usr/sbin/qmailctl")
    assert os.readlink(link) == "../lib/qmail-ng/bin/qmailctl"
    assert os.path.samefile(link, os.path.join(lib, "qmailctl"))
    assert os.access(os.path.join(destdir, "usr/lib/qmail-ng/mkservice.sh"), os.X_OK)
    pages = os.listdir(os.path.join(REPO, "docs/man"))
    assert pages
    for page in pages:
        sec = page.rsplit(".", 1)[1]
        p = os.path.join(destdir, "usr/share/man", "man" + sec, page)
        assert os.path.isfile(p), p
        assert stat.S_IMODE(os.stat(p).st_mode) == 0o644
    doc = os.path.join(destdir, "usr/share/doc/qmail-ng")
    for name in ["README.md", "index.md", "install.md", "operations.md"]:
        assert os.path.isfile(os.path.join(doc, name)), name
    units = os.path.join(destdir, "lib/systemd/system")
    assert sorted(os.listdir(units)) == sorted([s + ".service" for s in SERVICES] +
                                               ["qmail.target"])
    # /usr/sbin/sendmail is the administrator's to link.
    assert not os.path.lexists(os.path.join(destdir, "usr/sbin/sendmail"))


def test_prefix_default_places_units_under_prefix(qng_bin, tmp_path):
    sh([INSTALL, "--destdir", str(tmp_path), "--bindir", qng_bin])
    assert os.path.isfile(tmp_path / "usr/local/lib/qmail-ng/bin/qmail-queue")
    assert os.path.isfile(tmp_path / "usr/local/lib/systemd/system/qmail.target")
    assert os.path.islink(tmp_path / "usr/local/sbin/qmailctl")


def test_install_refuses_missing_build(tmp_path):
    r = subprocess.run(["/bin/sh", INSTALL, "--destdir", str(tmp_path), "--bindir",
                        str(tmp_path / "nothing")], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    assert r.returncode == 100
    assert b"build first" in r.stderr


def test_installed_qmailctl_inits_an_instance(destdir, qng_bin, test_user):
    root = tempfile.mkdtemp(prefix="qng-install-inst-", dir="/tmp")
    try:
        os.chmod(root, 0o755)
        if os.geteuid() == 0:
            os.chown(root, test_user.uid, test_user.gid)
        inst = os.path.join(root, "inst")
        r = subprocess.run([os.path.join(destdir, "usr/sbin/qmailctl"), "init", inst,
                            "--me", "example.test"], cwd=root, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60, preexec_fn=_demote(test_user),
                           env={"PATH": "/usr/bin:/bin", "LANG": "C"})
        assert r.returncode == 0, (r.stdout + r.stderr).decode(errors="replace")
        lib = os.path.join(destdir, "usr/lib/qmail-ng/bin")
        # Through the symlink, qmailctl found its real directory and copied it.
        assert sorted(os.listdir(os.path.join(inst, "bin"))) == sorted(os.listdir(lib))
        for name in ["qmail-queue", "qmail-smtpd"]:
            with open(os.path.join(inst, "bin", name), "rb") as a, \
                 open(os.path.join(lib, name), "rb") as b:
                assert a.read() == b.read(), name
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_units_are_mkservice_output_and_verify(tmp_path):
    sh([MKSERVICE, "--systemd", str(tmp_path)])
    names = sorted(os.listdir(UNITS))
    assert names == sorted(os.listdir(tmp_path))
    for name in names:
        with open(os.path.join(UNITS, name)) as a, open(tmp_path / name) as b:
            assert a.read() == b.read(), f"etc/systemd/{name} is stale: run mkservice.sh --systemd"
    analyze = shutil.which("systemd-analyze")
    if analyze:
        r = subprocess.run([analyze, "verify", "--man=no",
                            *[os.path.join(UNITS, n) for n in names]],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        assert r.returncode == 0 and not r.stderr.strip(), r.stderr.decode(errors="replace")


def test_units_content():
    target = load_unit(os.path.join(UNITS, "qmail.target"))
    assert target["Unit"]["Wants"].split() == [s + ".service" for s in SERVICES]
    assert target["Install"]["WantedBy"] == "multi-user.target"
    for s in SERVICES:
        path = os.path.join(UNITS, s + ".service")
        u = load_unit(path)
        svc = u["Service"]
        assert svc["Type"] == "simple"
        assert u["Unit"]["PartOf"] == "qmail.target"
        assert u["Install"]["WantedBy"] == "qmail.target"
        with open(path) as f:
            body = exec_start_script(f.read())
        last = body.rsplit(";", 1)[1].strip()
        if s == "qmail-send":
            assert last == ('exec env - PATH=/var/qmail/bin:/usr/local/bin:/usr/bin:/bin '
                            'QMAILHOME=/var/qmail /var/qmail/bin/qmail-start "$dd" '
                            'qmail-logger /var/qmail/log/qmail-send')
            assert svc["ExecReload"] == "/bin/kill -HUP $MAINPID"
            assert svc["KillMode"] == "mixed"
            assert "ProtectHome" not in svc
        else:
            assert last.startswith("exec env - PATH=/var/qmail/bin:/usr/local/bin:/usr/bin:/bin "
                                   'QMAILHOME=/var/qmail /var/qmail/bin/tcpserver "$@" -- '
                                   '"$host" "$port" /var/qmail/bin/')
            service = {"qmail-smtpd": "smtp", "qmail-pop3d": "pop3", "qmail-qmtpd": "qmtp",
                       "qmail-qmqpd": "qmqp"}[s]
            assert u["Unit"]["ConditionPathExists"] == f"/var/qmail/control/listen.{service}"
            assert f"-x /var/qmail/control/tcp.{service}.cdb" in body
        # qmail-queue is setuid: whatever runs it must be able to gain it.
        assert svc.get("NoNewPrivileges", "no") == ("yes" if s == "qmail-pop3d" else "no")
        assert "CapabilityBoundingSet" not in svc and "User" not in svc


def test_smtp_unit_command_runs(make_instance, tmp_path):
    port = free_port()
    inst = make_instance(args=["--smtp", f"127.0.0.1:{port}"])
    sh([MKSERVICE, "--systemd", "--qmail", inst.path, str(tmp_path)])
    with open(tmp_path / "qmail-smtpd.service") as f:
        body = exec_start_script(f.read())
    p = inst.popen(["/bin/sh", "-c", body], start_new_session=True,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert banner(port).startswith(b"220 ")
        pid = int(inst.read("supervise/smtp.pid"))
        assert pid == p.pid  # sh exec'd tcpserver: the pid file names it
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")[:-1]
        assert argv == [f"{inst.path}/bin/tcpserver".encode(), b"-v", b"-c", b"40", b"-C", b"10",
                        b"-M", b"421 4.7.0 too many connections from your address (#4.7.0)\r\n",
                        b"-l", b"example.test", b"-x",
                        f"{inst.path}/control/tcp.smtp.cdb".encode(), b"--", b"127.0.0.1",
                        str(port).encode(), f"{inst.path}/bin/qmail-smtpd".encode()]
        out = inst.ctl("stat").stdout.decode()
        assert f"qmail-smtpd: up (pid {pid})" in out
    finally:
        stop_group(p)


def test_send_unit_command_runs(make_instance, tmp_path):
    inst = make_instance()
    inst.write("control/defaultdelivery", "./Mailbox\n")
    sh([MKSERVICE, "--systemd", "--qmail", inst.path, str(tmp_path)])
    with open(tmp_path / "qmail-send.service") as f:
        body = exec_start_script(f.read())
    p = inst.popen(["/bin/sh", "-c", body], start_new_session=True,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        def up():
            return "qmail-send: up (pid %d)" % p.pid in inst.ctl("stat").stdout.decode()
        inst.wait_for(up, timeout=10, what="qmail-send up")

        def comm():
            with open(f"/proc/{p.pid}/comm") as f:
                return f.read().strip()
        # qmail-start execs qmail-send: the unit's main pid becomes it.
        inst.wait_for(lambda: comm() == "qmail-send", timeout=10, what="qmail-start's exec")
        # qmail-start got the first line of defaultdelivery: qmail-lspawn has it.
        want = [f"{inst.path}/bin/qmail-lspawn".encode(), b"./Mailbox"]
        assert want in process_argvs()
        inst.wait_for(lambda: os.path.exists(os.path.join(inst.path, "log/qmail-send/current"))
                      and b"status:" in inst.read("log/qmail-send/current"),
                      timeout=10, what="qmail-send's log")
        inst.ctl("stop")
        p.wait(timeout=10)
    finally:
        stop_group(p)


def test_run_directories(make_instance, tmp_path):
    smtp, pop3 = free_port(), free_port()
    inst = make_instance(args=["--smtp", f"127.0.0.1:{smtp}", "--pop3", f"127.0.0.1:{pop3}"])
    out = Path(inst.root) / "service"  # the test user must reach the scripts
    sh([MKSERVICE, "--qmail", inst.path, str(out)])
    assert sorted(os.listdir(out)) == ["qmail-pop3d", "qmail-send", "qmail-smtpd"]
    for d in os.listdir(out):
        for run in ["run", "log/run"]:
            assert os.access(out / d / run, os.X_OK), f"{d}/{run}"

    def last(path):
        with open(path) as f:
            return [l for l in f.read().splitlines() if l.strip()][-1]
    env = f"exec env - PATH={inst.path}/bin:/usr/local/bin:/usr/bin:/bin QMAILHOME={inst.path} "
    assert last(out / "qmail-send/run") == env + f'{inst.path}/bin/qmail-start "$dd"'
    assert last(out / "qmail-smtpd/run") == (
        env + f'{inst.path}/bin/tcpserver "$@" -- "$host" "$port" {inst.path}/bin/qmail-smtpd')
    assert last(out / "qmail-pop3d/run") == (
        env + f'{inst.path}/bin/tcpserver "$@" -- "$host" "$port" {inst.path}/bin/qmail-popup '
        f'"$me" {inst.path}/bin/qmail-checkpassword {inst.path}/bin/qmail-pop3d Maildir')
    assert last(out / "qmail-smtpd/log/run") == (
        f"exec {inst.path}/bin/qmail-logger {inst.path}/log/smtp")
    # --all: every listener, configured or not.
    sh([MKSERVICE, "--all", "--qmail", inst.path, str(tmp_path / "all")])
    assert sorted(os.listdir(tmp_path / "all")) == sorted(SERVICES)

    # Run as supervise would: run | log/run.
    p = inst.popen(["/bin/sh", "-c", f"{out}/qmail-pop3d/run | {out}/qmail-pop3d/log/run"],
                   start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert banner(pop3).startswith(b"+OK ")
        inst.wait_for(lambda: os.path.exists(os.path.join(inst.path, "log/pop3/current"))
                      and b"tcpserver: " in inst.read("log/pop3/current"),
                      timeout=10, what="tcpserver's line in log/pop3/current")
        line = inst.read("log/pop3/current").decode().splitlines()[0]
        assert line.startswith("@4000") and line[25] == " "
        assert "qmail-pop3d: up" in inst.ctl("stat").stdout.decode()
    finally:
        stop_group(p)


@pytest.mark.skipif(os.geteuid() != 0, reason="a system instance needs root")
def test_system_run_directory_switches_uids(qng_bin, tmp_path):
    import grp
    import pwd
    root = tempfile.mkdtemp(prefix="qng-sys-svc-", dir="/tmp")
    p = None
    try:
        os.chmod(root, 0o755)
        inst = os.path.join(root, "qmail")
        port = free_port()
        r = subprocess.run([os.path.join(qng_bin, "qmailctl"), "init", "--system", inst,
                            "--me", "sys.test", "--smtp", f"127.0.0.1:{port}"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        assert r.returncode == 0, (r.stdout + r.stderr).decode(errors="replace")
        out = tmp_path / "service"
        sh([MKSERVICE, "--qmail", inst, str(out)])
        p = subprocess.Popen(["/bin/sh", "-c",
                              f"{out}/qmail-smtpd/run | {out}/qmail-smtpd/log/run"],
                             start_new_session=True, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        assert banner(port).startswith(b"220 sys.test ")
        with open(os.path.join(inst, "supervise/smtp.pid")) as f:
            pid = int(f.read())
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")[:-1]
        uid, gid = pwd.getpwnam("qmaild").pw_uid, grp.getgrnam("nofiles").gr_gid
        i = argv.index(b"-u")
        assert argv[i:i + 4] == [b"-u", str(uid).encode(), b"-g", str(gid).encode()]
        st = os.stat(os.path.join(inst, "log/smtp"))
        assert (st.st_uid, st.st_gid) == (pwd.getpwnam("qmaill").pw_uid, gid)
        deadline = time.monotonic() + 10
        while not os.path.exists(os.path.join(inst, "log/smtp/current")):
            assert time.monotonic() < deadline, "no log/smtp/current"
            time.sleep(0.05)
        assert os.stat(os.path.join(inst, "log/smtp/current")).st_uid == st.st_uid
    finally:
        if p:
            stop_group(p)
        shutil.rmtree(root, ignore_errors=True)
