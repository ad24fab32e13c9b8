# test_pop3.py: the POP3 service end to end: qmail-popup, qmail-checkpassword
# and qmail-pop3d behind tcpserver, on a real instance, run by the test user,
# driven by poplib, a raw socket, curl and fetchmail; then the Maildir on disk.
import os
import poplib
import shutil
import socket
import ssl
import subprocess
import time

import pytest

from conftest import free_port

ME = "example.test"
PASSWORD = "s3cret pass"

# Two messages: the first has a line starting with '.', the second ends
# without a newline. mtimes are in the past: qmail-pop3d skips messages
# delivered in the current second.
MSG1 = (b"Return-Path: <a@example.net>\nSubject: one\n\nhello\n.dotted line\n"
        b"..two dots\nlast\n")
MSG2 = b"Subject: two\n\nbody line 1\nbody line 2\nno newline at end"


def pop3_form(msg, limit=0):
    """What qmail-pop3d sends for msg after +OK (qmail's blast)."""
    lines = msg.split(b"\n")
    if msg.endswith(b"\n"):
        lines.pop()
    out, inheaders = [], True
    for line in lines:
        if limit and not inheaders:
            limit -= 1
            if limit == 0:
                break
        if line == b"":
            inheaders = False
        elif line.startswith(b"."):
            line = b"." + line
        out.append(line + b"\r\n")
    return b"".join(out) + b"\r\n.\r\n"


def set_password(inst, address, password, how):
    """Sets a password by `qmailctl passwd` or, how == "openssl", by writing
    users/passwd with `openssl passwd -6` (sha512-crypt)."""
    if how == "qmailctl":
        inst.ctl("passwd", address, input=password + "\n")
        return
    h = subprocess.run(["openssl", "passwd", "-6", "-stdin"], input=password.encode(),
                       stdout=subprocess.PIPE, check=True).stdout.decode().strip()
    p = os.path.join(inst.path, "users", "passwd")
    old = open(p).read() if os.path.exists(p) else ""
    inst.write("users/passwd", old + f"{address}:{h}\n", 0o640)


def qmailctl_passwd_works(inst):
    r = inst.ctl("passwd", "probe@" + ME, input="x\n", check=False)
    return r.returncode == 0


def deliver(home, name, data, age=100):
    p = os.path.join(home, "Maildir", "new", name)
    with open(p, "wb") as f:
        f.write(data)
    t = time.time() - age
    os.utime(p, (t, t))
    return p


class Server:
    """tcpserver on 127.0.0.1 running the POP3 chain as the test user."""

    def __init__(self, inst, extra_env=None):
        self.inst = inst
        self.port = free_port()
        args = ["tcpserver", "-HR", "127.0.0.1", str(self.port),
                "qmail-popup", ME, "qmail-checkpassword", "qmail-pop3d", "Maildir"]
        self.log = open(os.path.join(inst.root, "pop3.log"), "wb")
        self.proc = inst.popen(args, env=extra_env, stdin=subprocess.DEVNULL,
                               stdout=self.log, stderr=self.log)
        deadline = time.time() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.time() > deadline:
                    raise AssertionError("tcpserver did not start: " + self.errors())
                time.sleep(0.05)

    def errors(self):
        self.log.flush()
        with open(self.log.name, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        log = self.errors()
        self.log.close()
        # Under the sanitizers a report from any program of the chain fails the test.
        assert "Sanitizer" not in log and "runtime error" not in log, log


class Raw:
    """A raw POP3 connection, for exact bytes."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.f = self.sock.makefile("rb")

    def line(self):
        return self.f.readline()

    def cmd(self, text):
        self.sock.sendall(text.encode() + b"\r\n")
        return self.line()

    def multi(self):
        out = b""
        while True:
            l = self.line()
            assert l, "connection closed inside a multiline answer"
            out += l
            if l == b".\r\n":
                return out

    def close(self):
        self.f.close()
        self.sock.close()


@pytest.fixture
def pop3(instance):
    """An instance with user jo@example.test (password set, two messages in
    Maildir/new, plaintext allowed) and the POP3 service running."""
    inst = instance
    home = inst.add_user("jo")
    how = "qmailctl" if qmailctl_passwd_works(inst) else "openssl"
    set_password(inst, "jo@" + ME, PASSWORD, how)
    inst.write("control/pop3plaintext", "1\n")
    m1 = deliver(home, "1000000001.P1.host", MSG1, age=200)
    m2 = deliver(home, "1000000002.P2.host", MSG2, age=100)
    for p in (m1, m2):
        inst.chown(p)
    srv = Server(inst)
    srv.home, srv.m1, srv.m2 = home, m1, m2
    yield srv
    srv.stop()


def login(port, user="jo@" + ME, password=PASSWORD):
    p = poplib.POP3("127.0.0.1", port, timeout=10)
    p.user(user)
    p.pass_(password)
    return p


_cert = []


def make_cert(inst):
    """Installs control/servercert.pem: a self-signed certificate and its key
    (made once per test run with the openssl command)."""
    if not _cert:
        pem = os.path.join(inst.root, "cert.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                        "-subj", "/CN=" + ME, "-keyout", pem, "-out", pem],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=60)
        _cert.append(open(pem, "rb").read())
    inst.write("control/servercert.pem", _cert[0], 0o600)


def client_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def test_session_retrieves_and_deletes_at_quit(pop3):
    p = login(pop3.port)
    assert p.stat() == (2, len(MSG1) + len(MSG2))
    resp, listing, _ = p.list()
    assert listing == [b"1 %d" % len(MSG1), b"2 %d" % len(MSG2)]
    resp, uidl, _ = p.uidl()
    assert uidl == [b"1 1000000001.P1.host", b"2 1000000002.P2.host"]
    assert p.uidl(2) == b"+OK 2 1000000002.P2.host"
    resp, lines, _ = p.retr(1)
    assert lines == MSG1.rstrip(b"\n").split(b"\n") + [b""]  # poplib undoes the dot-stuffing
    resp, lines, _ = p.top(2, 1)
    assert lines == [b"Subject: two", b"", b"body line 1", b""]
    assert p.dele(1).startswith(b"+OK")
    assert p.stat() == (1, len(MSG2))
    assert p.quit().startswith(b"+OK")
    # Deleted at QUIT; the other one moved new/x -> cur/x:2,.
    assert not os.path.exists(pop3.m1)
    assert not os.path.exists(pop3.m2)
    assert inst_messages(pop3) == {"cur/1000000002.P2.host:2,": MSG2}


def inst_messages(srv):
    return srv.inst.maildir_messages(os.path.join(srv.home, "Maildir"))


def test_exact_bytes_crlf_and_dot_stuffing(pop3):
    r = Raw(pop3.port)
    assert r.line().startswith(b"+OK ")
    assert r.cmd("USER jo@" + ME) == b"+OK \r\n"
    assert r.cmd("PASS " + PASSWORD) == b"+OK \r\n"
    assert r.cmd("RETR 1") == b"+OK \r\n"
    assert r.multi() == pop3_form(MSG1)
    assert b"\r\n..dotted line\r\n...two dots\r\n" in pop3_form(MSG1)
    assert r.cmd("RETR 2") == b"+OK \r\n"
    assert r.multi() == pop3_form(MSG2)
    assert r.cmd("TOP 1 0") == b"+OK \r\n"
    assert r.multi() == pop3_form(MSG1, limit=1)
    assert r.cmd("LAST") == b"+OK 0\r\n"
    assert r.cmd("DELE 2") == b"+OK \r\n"
    assert r.cmd("LAST") == b"+OK 2\r\n"
    assert r.cmd("DELE 2") == b"-ERR already deleted\r\n"
    assert r.cmd("RETR 0") == b"-ERR messages are counted from 1\r\n"
    assert r.cmd("RETR 3") == b"-ERR not that many messages\r\n"
    assert r.cmd("RETR x") == b"-ERR syntax error\r\n"
    assert r.cmd("XTND") == b"-ERR unimplemented\r\n"
    assert r.cmd("RSET") == b"+OK \r\n"
    assert r.cmd("STAT") == b"+OK 2 %d\r\n" % (len(MSG1) + len(MSG2))
    assert r.cmd("QUIT") == b"+OK \r\n"
    assert r.line() == b""
    r.close()
    assert sorted(inst_messages(pop3)) == ["cur/1000000001.P1.host:2,",
                                           "cur/1000000002.P2.host:2,"]


def test_dropped_connection_deletes_nothing(pop3):
    p = login(pop3.port)
    assert p.dele(1).startswith(b"+OK")
    assert p.dele(2).startswith(b"+OK")
    p.close()  # no QUIT: closes the socket
    # qmail-pop3d sees end of input and exits; the Maildir is untouched.
    pop3.inst.wait_for(lambda: not pgrep_children(pop3), timeout=10, what="qmail-pop3d to exit")
    assert os.path.exists(pop3.m1) and os.path.exists(pop3.m2)
    assert sorted(inst_messages(pop3)) == ["new/1000000001.P1.host", "new/1000000002.P2.host"]


def pgrep_children(srv):
    r = subprocess.run(["pgrep", "-P", str(srv.proc.pid)], stdout=subprocess.PIPE)
    return r.stdout.strip()


def test_wrong_password_and_unknown_user(pop3):
    for user, password in (("jo@" + ME, "wrong"), ("nobody@" + ME, PASSWORD)):
        r = Raw(pop3.port)
        r.line()
        assert r.cmd("USER " + user) == b"+OK \r\n"
        assert r.cmd("PASS " + password) == b"-ERR authorization failed\r\n"
        assert r.line() == b""  # qmail-popup hangs up after a failed login
        r.close()
    assert os.path.exists(pop3.m1)


def test_bare_local_part_logs_in(pop3):
    p = login(pop3.port, user="jo")
    assert p.stat()[0] == 2
    p.quit()


def test_authorization_state(pop3):
    r = Raw(pop3.port)
    greeting = r.line()
    assert greeting == b"+OK " + ME.encode() + b" ready\r\n"
    assert r.cmd("STAT") == b"-ERR authorization first\r\n"
    assert r.cmd("PASS x") == b"-ERR USER first\r\n"
    assert r.cmd("USER") == b"-ERR syntax error\r\n"
    assert r.cmd("APOP jo 0123") == b"-ERR unimplemented\r\n"
    assert r.cmd("NOOP") == b"+OK \r\n"
    assert r.cmd("CAPA") == b"+OK capability list follows\r\n"
    capa = r.multi()
    assert capa == b"USER\r\nTOP\r\nUIDL\r\nPIPELINING\r\nRESP-CODES\r\n" \
                   b"IMPLEMENTATION qmail-ng\r\n.\r\n"  # no certificate: no STLS
    assert r.cmd("QUIT") == b"+OK \r\n"
    assert r.line() == b""
    r.close()


def test_pipelined_commands(pop3):
    s = socket.create_connection(("127.0.0.1", pop3.port), timeout=10)
    s.sendall(f"CAPA\r\nUSER jo@{ME}\r\nPASS {PASSWORD}\r\nSTAT\r\nLIST 2\r\nQUIT\r\n".encode())
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    lines = data.split(b"\r\n")
    assert lines[-6:] == [b"+OK ", b"+OK ", b"+OK 2 %d" % (len(MSG1) + len(MSG2)),
                          b"+OK 2 %d" % len(MSG2), b"+OK ", b""]


def test_plaintext_refused_without_tls(pop3):
    os.unlink(os.path.join(pop3.inst.path, "control", "pop3plaintext"))
    r = Raw(pop3.port)
    r.line()
    assert r.cmd("CAPA").startswith(b"+OK")
    assert b"USER\r\n" not in r.multi()
    assert r.cmd("USER jo@" + ME) == b"-ERR [AUTH] TLS required\r\n"
    assert r.cmd("PASS " + PASSWORD) == b"-ERR [AUTH] TLS required\r\n"
    r.close()
    with pytest.raises(poplib.error_proto, match="TLS required"):
        login(pop3.port)


def test_stls_session(pop3):
    os.unlink(os.path.join(pop3.inst.path, "control", "pop3plaintext"))
    make_cert(pop3.inst)
    p = poplib.POP3("127.0.0.1", pop3.port, timeout=10)
    caps = p.capa()
    assert "STLS" in caps and "USER" not in caps
    p.stls(client_context())
    caps = p.capa()
    assert "STLS" not in caps and "USER" in caps
    p.user("jo@" + ME)
    p.pass_(PASSWORD)
    assert p.stat() == (2, len(MSG1) + len(MSG2))
    resp, lines, _ = p.retr(2)
    assert lines == MSG2.split(b"\n") + [b""]
    # A long message crosses many TLS records both ways.
    assert p.dele(1).startswith(b"+OK")
    assert p.quit().startswith(b"+OK")
    assert inst_messages(pop3) == {"cur/1000000002.P2.host:2,": MSG2}


def test_stls_big_message_and_pipelining(pop3):
    make_cert(pop3.inst)
    big = b"Subject: big\n\n" + b"".join(b"line %06d .x\n" % i for i in range(40000))
    deliver(pop3.home, "1000000003.P3.host", big, age=50)
    pop3.inst.chown(os.path.join(pop3.home, "Maildir", "new", "1000000003.P3.host"))
    s = socket.create_connection(("127.0.0.1", pop3.port), timeout=10)
    f = s.makefile("rb")
    assert f.readline().startswith(b"+OK")
    s.sendall(b"STLS\r\n")
    assert f.readline() == b"+OK Begin TLS negotiation\r\n"
    t = client_context().wrap_socket(s, server_hostname=ME)
    tf = t.makefile("rb")
    t.sendall(f"USER jo@{ME}\r\nPASS {PASSWORD}\r\nRETR 3\r\nQUIT\r\n".encode())
    assert tf.readline() == b"+OK \r\n"
    assert tf.readline() == b"+OK \r\n"
    assert tf.readline() == b"+OK \r\n"
    body = b""
    while not body.endswith(b"\r\n.\r\n"):
        l = tf.readline()
        assert l
        body += l
    assert body == pop3_form(big)
    assert tf.readline() == b"+OK \r\n"
    t.close()


def test_stls_discards_pipelined_plaintext(pop3):
    # RFC 2595: what the client sent after STLS, before the handshake, must
    # not be taken as commands: here it breaks the handshake instead.
    make_cert(pop3.inst)
    s = socket.create_connection(("127.0.0.1", pop3.port), timeout=10)
    f = s.makefile("rb")
    f.readline()
    s.sendall(b"STLS\r\nNOOP\r\n")
    assert f.readline() == b"+OK Begin TLS negotiation\r\n"
    try:
        rest = f.read()  # the server gives up on the handshake and hangs up
    except ConnectionResetError:
        rest = b""  # it hung up with our bytes unread
    assert b"+OK" not in rest
    s.close()


def test_stls_wrong_password(pop3):
    make_cert(pop3.inst)
    p = poplib.POP3("127.0.0.1", pop3.port, timeout=10)
    p.stls(client_context())
    p.user("jo@" + ME)
    with pytest.raises(poplib.error_proto, match="authorization failed"):
        p.pass_("nope")


def test_openssl_sha512_hash_is_accepted(instance):
    inst = instance
    home = inst.add_user("kim")
    set_password(inst, "kim@" + ME, "other pw", "openssl")
    assert open(os.path.join(inst.path, "users", "passwd")).read().startswith(
        "kim@" + ME + ":$6$")
    inst.write("control/pop3plaintext", "1\n")
    inst.chown(deliver(home, "1000000005.P5.host", MSG1))
    srv = Server(inst)
    try:
        p = login(srv.port, user="kim@" + ME, password="other pw")
        assert p.stat() == (1, len(MSG1))
        p.quit()
    finally:
        srv.stop()


def test_qmailctl_passwd_writes_yescrypt(instance):
    inst = instance
    if not qmailctl_passwd_works(inst):
        pytest.skip("qmailctl passwd is not wired yet")
    inst.ctl("passwd", "Jo@" + ME.upper(), input="first\r\n")
    inst.ctl("passwd", "jo@" + ME, input="second\n")
    text = open(os.path.join(inst.path, "users", "passwd")).read()
    lines = [l for l in text.splitlines() if l.startswith("jo@")]
    assert len(lines) == 1 and lines[0].startswith("jo@" + ME + ":$y$")
    assert os.stat(os.path.join(inst.path, "users", "passwd")).st_mode & 0o777 == 0o640


def test_virtual_domain_login(instance):
    # jo@example.org with `example.org:ex` is the local part ex-jo, whose
    # users/assign line names its own home.
    inst = instance
    home = inst.add_user("ex-jo")
    inst.write("control/virtualdomains", "example.org:ex\n")
    set_password(inst, "jo@example.org", PASSWORD, "openssl")
    inst.write("control/pop3plaintext", "1\n")
    inst.chown(deliver(home, "1000000006.P6.host", MSG2))
    srv = Server(inst)
    try:
        p = login(srv.port, user="jo@example.org")
        assert p.uidl(1) == b"+OK 1 1000000006.P6.host"
        p.quit()
        # A domain not delivered here has no mailbox, password or not.
        set_password(inst, "jo@elsewhere.net", PASSWORD, "openssl")
        with pytest.raises(poplib.error_proto, match="authorization failed"):
            login(srv.port, user="jo@elsewhere.net")
        inst.wait_for(lambda: "jo@elsewhere.net is not delivered on this host" in srv.errors(),
                      timeout=10, what="qmail-checkpassword's message")
    finally:
        srv.stop()


def test_curl_retrieves_message(pop3):
    url = f"pop3://127.0.0.1:{pop3.port}/1"
    r = subprocess.run(["curl", "-s", "-m", "10", url, "-u", f"jo@{ME}:{PASSWORD}"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert r.returncode == 0, r.stderr
    # curl removes the dot-stuffing and the final ".".
    assert r.stdout == pop3_form(MSG1)[:-3].replace(b"\r\n..", b"\r\n.")
    listing = subprocess.run(["curl", "-s", "-m", "10", f"pop3://127.0.0.1:{pop3.port}/",
                              "-u", f"jo@{ME}:{PASSWORD}"], stdout=subprocess.PIPE, timeout=30)
    assert listing.stdout == b"1 %d\r\n2 %d\r\n" % (len(MSG1), len(MSG2))


def test_curl_stls(pop3):
    os.unlink(os.path.join(pop3.inst.path, "control", "pop3plaintext"))
    make_cert(pop3.inst)
    url = f"pop3://127.0.0.1:{pop3.port}/2"
    r = subprocess.run(["curl", "-s", "-m", "10", "--ssl-reqd", "-k", url,
                        "-u", f"jo@{ME}:{PASSWORD}"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout == pop3_form(MSG2)[:-3]
    # Without TLS curl finds no way to log in.
    r = subprocess.run(["curl", "-s", "-m", "10", url, "-u", f"jo@{ME}:{PASSWORD}"],
                       stdout=subprocess.PIPE, timeout=30)
    assert r.returncode != 0


@pytest.mark.skipif(shutil.which("fetchmail") is None, reason="fetchmail is not installed")
@pytest.mark.parametrize("tls", [False, True])
def test_fetchmail(pop3, tls):
    inst = pop3.inst
    out = os.path.join(inst.root, "fetched")
    if tls:
        os.unlink(os.path.join(inst.path, "control", "pop3plaintext"))
        make_cert(inst)
        ssl_opts = "sslproto tls1.2+ no sslcertck"
    else:
        ssl_opts = 'sslproto ""'  # else fetchmail tries STLS, advertised or not
    rc = (f'set no bouncemail\n'
          f'poll 127.0.0.1 port {pop3.port} proto pop3 auth password timeout 10\n'
          f'  user "jo@{ME}" there with password "{PASSWORD}" is "x" here\n'
          f'  {ssl_opts} fetchall\n'
          f'  mda "cat >> {out}"\n')
    rcfile = inst.write("fetchmailrc", rc, 0o600)
    r = inst.run(["/usr/bin/fetchmail", "-f", rcfile, "--nodetach", "--nosyslog", "-v",
                  "-t", "10", "-i", os.path.join(inst.root, "fetchids")],
                 env={"HOME": inst.root}, timeout=60)
    log = (r.stdout + r.stderr).decode(errors="replace")
    assert r.returncode == 0, log
    got = open(out, "rb").read()
    assert b"hello\n.dotted line\n..two dots\nlast\n" in got
    assert b"body line 2\nno newline at end" in got
    # fetchmail deletes what it fetched: both gone at QUIT.
    assert inst_messages(pop3) == {}
