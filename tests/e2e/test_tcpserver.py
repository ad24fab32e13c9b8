# test_tcpserver.py: the listener and its rules compiler, as administrators
# run them under ucspi-tcp: tcpserver on a loopback port running a small
# program that prints its environment; real sockets; rules compiled by
# tcprules; concurrency and per-IP limits; SIGTERM; bind failures.
#
# Everything runs as the unprivileged test user (root only starts tcpserver
# for the -u/-g test). Every wait is bounded; each listener's process group
# is killed at teardown, so no child outlives a test.
import ctypes
import os
import select
import signal
import socket
import subprocess
import shutil
import tempfile
import time

import pytest

WAIT = 10  # seconds: the bound of every wait for something that must happen

# Prints the environment, READY, then waits for a line (or end of input)
# and says BYE. Leaves ran.PID in $MARKS so tests see whether it ran.
ENVPROG = """#!/bin/sh
touch "$MARKS/ran.$$"
env | LC_ALL=C sort
echo "IDS=$(id -u) $(id -g) $(id -G)"
echo READY
read x
echo BYE
"""

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unit", "tcprules")


def have_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


class Listener:
    """One tcpserver, started with -1 on port 0 unless told otherwise."""

    def __init__(self, box, args, host="127.0.0.1", port="0", env=None, as_root=False):
        self.box = box
        box.n += 1
        self.err_path = box.p(f"tcpserver.{box.n}.err")
        errf = open(self.err_path, "wb")
        full_env = {"PATH": "/usr/bin:/bin", "LANG": "C", "MARKS": box.marks,
                    "TCPREMOTEINFO": "stale", "TCPREMOTEHOST": "stale"}
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                full_env[k] = os.environ[k]
        if env:
            full_env.update(env)
        self.proc = subprocess.Popen(
            [os.path.join(box.bin, "tcpserver"), "-1", *args, host, port, box.envprog],
            stdout=subprocess.PIPE, stderr=errf, env=full_env, cwd=box.path,
            preexec_fn=None if as_root else box.demote, start_new_session=True)
        errf.close()
        box.listeners.append(self)
        self.port = None
        if port == "0":
            r, _, _ = select.select([self.proc.stdout], [], [], WAIT)
            line = self.proc.stdout.readline() if r else b""
            assert line.strip().isdigit(), f"no port from tcpserver: {self.log()}"
            self.port = int(line)

    def log(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode(errors="replace")

    def wait_log(self, text):
        deadline = time.time() + WAIT
        while time.time() < deadline:
            if text in self.log():
                return self.log()
            time.sleep(0.02)
        raise AssertionError(f"no {text!r} in tcpserver's log:\n{self.log()}")

    def kill(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # tcpserver and its children
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(WAIT)
        except subprocess.TimeoutExpired:
            pass
        if self.proc.stdout:
            self.proc.stdout.close()


class Box:
    """A scratch directory owned by the test user, with the env program."""

    def __init__(self, path, bindir, user):
        self.path, self.bin, self.user = path, bindir, user
        self.n = 0
        self.listeners = []
        self.sockets = []
        self.marks = self.mkdir("marks")
        self.envprog = self.write("envprog", ENVPROG, 0o755)

    def p(self, rel):
        return os.path.join(self.path, rel)

    def chown(self, p):
        if os.geteuid() == 0:
            os.chown(p, self.user.uid, self.user.gid)

    def mkdir(self, rel):
        p = self.p(rel)
        os.makedirs(p, exist_ok=True)
        self.chown(p)
        return p

    def write(self, rel, data, mode=0o644):
        p = self.p(rel)
        with open(p, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        os.chmod(p, mode)
        self.chown(p)
        return p

    def demote(self):
        if os.geteuid() == 0:
            os.setgroups([])
            os.setgid(self.user.gid)
            os.setuid(self.user.uid)

    def tcprules(self, rules, cdb="rules.cdb", tmp="rules.tmp"):
        return subprocess.run([os.path.join(self.bin, "tcprules"), cdb, tmp],
                              input=rules.encode(), cwd=self.path, timeout=WAIT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              preexec_fn=self.demote)

    def rules(self, text):
        r = self.tcprules(text)
        assert r.returncode == 0, r.stderr
        return self.p("rules.cdb")

    def serve(self, *args, **kw):
        return Listener(self, list(args), **kw)

    def connect(self, port, host="127.0.0.1"):
        s = socket.create_connection((host, port), timeout=WAIT)
        self.sockets.append(s)
        return s

    def runs(self):
        return sorted(os.listdir(self.marks))


def become_subreaper():
    """Programs orphaned by a killed tcpserver become our children, so that
    teardown reaps them (a container's init may not)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def reap_orphans():
    deadline = time.time() + WAIT
    while time.time() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.02)


@pytest.fixture
def box(qng_bin, test_user):
    become_subreaper()
    root = tempfile.mkdtemp(prefix="qng-tcpserver-", dir="/tmp")
    os.chmod(root, 0o755)
    if os.geteuid() == 0:
        os.chown(root, test_user.uid, test_user.gid)
    b = Box(root, qng_bin, test_user)
    yield b
    for s in b.sockets:
        s.close()
    for lst in b.listeners:
        lst.kill()
    reap_orphans()
    shutil.rmtree(root, ignore_errors=True)


def read_until(s, marker):
    """Bytes from s up to and including marker; fails at EOF or timeout."""
    data = b""
    s.settimeout(WAIT)
    while marker not in data:
        chunk = s.recv(4096)
        assert chunk, f"connection closed before {marker!r}: {data!r}"
        data += chunk
    return data


def read_all(s):
    data = b""
    s.settimeout(WAIT)
    while True:
        chunk = s.recv(4096)
        if not chunk:
            return data
        data += chunk


def environment(s):
    out = read_until(s, b"READY\n").decode()
    env = {}
    for line in out.splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            env[k] = v
    return env


def nothing_arrives(s, seconds=0.7):
    """True when s stays silent (and open) for a while."""
    s.settimeout(seconds)
    try:
        s.recv(1)
    except socket.timeout:
        return True
    return False


def test_environment_rules_and_log(box):
    cdb = box.rules('127.:allow,RELAYCLIENT="",DATABYTES="1000"\n:deny\n')
    srv = box.serve("-v", "-l", "mx.example", "-x", cdb)
    s = box.connect(srv.port)
    env = environment(s)
    assert env["PROTO"] == "TCP"
    assert env["TCPLOCALIP"] == "127.0.0.1"
    assert env["TCPLOCALPORT"] == str(srv.port)
    assert env["TCPLOCALHOST"] == "mx.example"
    assert env["TCPREMOTEIP"] == "127.0.0.1"
    assert env["TCPREMOTEPORT"] == str(s.getsockname()[1])
    assert env["RELAYCLIENT"] == ""
    assert env["DATABYTES"] == "1000"
    # -H and -R are the defaults: stale values from tcpserver's own
    # environment must not reach the program.
    assert "TCPREMOTEHOST" not in env
    assert "TCPREMOTEINFO" not in env
    s.sendall(b"\n")
    assert read_all(s) == b"BYE\n"
    log = srv.wait_log(" status 0\n")
    pid = None
    for line in log.splitlines():
        if line.startswith("tcpserver: pid "):
            pid = line.split()[2]
            assert line == f"tcpserver: pid {pid} from 127.0.0.1"
    assert pid is not None, log
    assert f"tcpserver: ok {pid} mx.example:127.0.0.1:{srv.port} " \
           f":127.0.0.1::{s.getsockname()[1]}\n" in log
    assert f"tcpserver: end {pid} status 0\n" in log
    assert "tcpserver: status: 0/40\n" in log
    assert "tcpserver: status: 1/40\n" in log


def test_deny_closes_without_running_the_program(box):
    cdb = box.rules("127.0.0.1:deny\n:allow\n")
    srv = box.serve("-v", "-x", cdb)
    s = box.connect(srv.port)
    assert read_all(s) == b""
    log = srv.wait_log(" status 25600\n")  # the child's exit 100, raw as ucspi-tcp logs it
    assert "tcpserver: deny " in log
    assert box.runs() == []


def test_banner_comes_first(box):
    srv = box.serve("-B", "220 hello\r\n")
    s = box.connect(srv.port)
    assert read_until(s, b"READY\n").startswith(b"220 hello\r\n")


def test_missing_rules_drop_unless_X(box):
    srv = box.serve("-x", box.p("none.cdb"))
    s = box.connect(srv.port)
    assert read_all(s) == b""
    srv.wait_log("tcpserver: warning: dropping connection, unable to read ")
    assert box.runs() == []
    srv2 = box.serve("-X", "-x", box.p("none.cdb"))
    s2 = box.connect(srv2.port)
    assert environment(s2)["TCPREMOTEIP"] == "127.0.0.1"


def test_rules_change_under_a_running_server(box):
    cdb = box.rules(":allow\n")
    srv = box.serve("-x", cdb)
    assert "RELAYCLIENT" not in environment(box.connect(srv.port))
    box.rules('127.:allow,RELAYCLIENT=""\n')
    assert environment(box.connect(srv.port))["RELAYCLIENT"] == ""


def test_concurrency_limit_defers_the_third(box):
    srv = box.serve("-v", "-c", "2")
    s1 = box.connect(srv.port)
    s2 = box.connect(srv.port)
    environment(s1)
    environment(s2)
    srv.wait_log("tcpserver: status: 2/2\n")
    s3 = box.connect(srv.port)  # completes in the backlog, not served
    assert nothing_arrives(s3)
    assert len(box.runs()) == 2
    s1.sendall(b"\n")
    assert read_all(s1) == b"BYE\n"
    env3 = environment(s3)
    assert env3["TCPREMOTEPORT"] == str(s3.getsockname()[1])
    assert len(box.runs()) == 3


def test_per_ip_limit(box):
    srv = box.serve("-C", "1", "-M", "421 too many connections\r\n")
    s1 = box.connect(srv.port)
    environment(s1)
    s2 = box.connect(srv.port)
    assert read_all(s2) == b"421 too many connections\r\n"
    assert len(box.runs()) == 1
    s1.sendall(b"\n")
    assert read_all(s1) == b"BYE\n"
    # The slot frees once tcpserver has reaped the child.
    deadline = time.time() + WAIT
    while True:
        s = box.connect(srv.port)
        data = read_until(s, b"\n")
        if data != b"421 too many connections\r\n":
            break
        assert time.time() < deadline, "per-IP slot never freed"
        time.sleep(0.05)
    assert len(box.runs()) == 2


def test_sigterm_stops_listening_children_go_on(box):
    srv = box.serve()
    s = box.connect(srv.port)
    environment(s)
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.proc.wait(WAIT) == 0
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", srv.port), timeout=WAIT).close()
    s.sendall(b"\n")
    assert read_all(s) == b"BYE\n"


def test_bind_failure(box):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        srv = box.serve(port=str(port))
        assert srv.proc.wait(WAIT) == 111
        assert srv.proc.stdout.read() == b""
        assert "tcpserver: fatal: unable to bind: Address already in use\n" in srv.log()


def test_usage(box):
    r = subprocess.run([os.path.join(box.bin, "tcpserver"), "-c", "0", "0", "0", "true"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=WAIT,
                       preexec_fn=box.demote)
    assert r.returncode == 100
    assert b"tcpserver: usage: tcpserver " in r.stderr
    r = subprocess.run([os.path.join(box.bin, "tcpserver"), "--help"], stdout=subprocess.PIPE,
                       timeout=WAIT, preexec_fn=box.demote)
    assert r.returncode == 0 and r.stdout.startswith(b"usage: tcpserver ")


def test_ipv6_loopback_and_dual_stack(box):
    if not have_ipv6_loopback():
        pytest.skip("this machine has no IPv6 loopback (::1)")
    srv = box.serve("-x", box.rules('::1:allow,V6="yes"\n127.:allow,V6="no"\n'), host="::1")
    s = box.connect(srv.port, host="::1")
    env = environment(s)
    assert env["PROTO"] == "TCP6"
    assert env["TCPREMOTEIP"] == "::1"
    assert env["TCPLOCALIP"] == "::1"
    assert env["TCPREMOTEPORT"] == str(s.getsockname()[1])
    assert env["V6"] == "yes"
    # "::" takes IPv4 clients too, and shows them as IPv4.
    both = box.serve("-x", box.p("rules.cdb"), host="::")
    env4 = environment(box.connect(both.port, host="127.0.0.1"))
    assert env4["PROTO"] == "TCP"
    assert env4["TCPREMOTEIP"] == "127.0.0.1"
    assert env4["V6"] == "no"
    env6 = environment(box.connect(both.port, host="::1"))
    assert env6["PROTO"] == "TCP6" and env6["V6"] == "yes"


def test_drops_privileges(box):
    if os.geteuid() != 0:
        pytest.skip("-u/-g need root to start with")
    u = box.user
    srv = box.serve("-u", str(u.uid), "-g", str(u.gid), as_root=True)
    env = environment(box.connect(srv.port))
    assert env["IDS"] == f"{u.uid} {u.gid} {u.gid}"
    with open(f"/proc/{srv.proc.pid}/status") as f:
        status = f.read()
    assert f"\nUid:\t{u.uid}\t{u.uid}\t{u.uid}\t{u.uid}\n" in status
    assert f"\nGid:\t{u.gid}\t{u.gid}\t{u.gid}\t{u.gid}\n" in status


def test_tcprules_cli(box):
    with open(os.path.join(GOLDEN, "golden.rules"), "rb") as f:
        source = f.read().decode()
    with open(os.path.join(GOLDEN, "golden.cdb"), "rb") as f:
        golden = f.read()
    r = box.tcprules(source)
    assert r.returncode == 0, r.stderr
    with open(box.p("rules.cdb"), "rb") as f:
        assert f.read() == golden  # the bytes ucspi-tcp's tcprules writes
    assert not os.path.exists(box.p("rules.tmp"))
    r = box.tcprules(":allow\n1.2.3.4:allow,X\n")
    assert r.returncode == 100
    assert r.stderr == b"tcprules: fatal: unable to parse this line: 1.2.3.4:allow,X\n"
    with open(box.p("rules.cdb"), "rb") as f:
        assert f.read() == golden  # left alone
    r = box.tcprules(":allow\n", tmp="/nonexistent/rules.tmp")
    assert r.returncode == 111
    assert r.stderr.startswith(b"tcprules: fatal: unable to create /nonexistent/rules.tmp: ")
    r = subprocess.run([os.path.join(box.bin, "tcprules"), "only-one"], timeout=WAIT,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=box.demote)
    assert r.returncode == 100
