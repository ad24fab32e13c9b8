# test_submission.py: qmailctl init --submission/--smtps and the listeners
# they make: qmail-smtpd on the submission port refuses MAIL before AUTH
# (RFC 6409, 530 5.7.0) and relays after it; on the SMTPS port TLS comes
# before the greeting (RFC 8314) and mail to a local user arrives.
import os
import re
import smtplib
import socket
import ssl
import subprocess

import pytest

from conftest import free_port


def tls_client():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # self-signed
    return ctx


@pytest.fixture
def subhost(make_instance):
    """An instance with submission and SMTPS listeners, a certificate, the
    real checkpassword and user amy@example.test with a password."""
    p1 = free_port()
    p2 = free_port()
    while p2 == p1:
        p2 = free_port()
    inst = make_instance(args=["--submission", f"127.0.0.1:{p1}", "--smtps", f"127.0.0.1:{p2}"])
    inst.sub_port, inst.smtps_port = p1, p2
    d = inst.root
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj",
                    "/CN=example.test", "-keyout", f"{d}/k", "-out", f"{d}/c"],
                   check=True, capture_output=True, timeout=120)
    with open(f"{d}/k", "rb") as k, open(f"{d}/c", "rb") as c:
        pem = k.read() + c.read()
    inst.write("control/servercert.pem", pem, 0o640)
    inst.write("control/checkpassword", "bin/qmail-checkpassword\n")
    inst.amy = inst.add_user("amy")  # runs qmailctl cdb
    inst.ctl("passwd", "amy@example.test", input="s3cret pass\n")
    return inst


def test_init_writes_listeners_and_rules(subhost):
    inst = subhost
    assert inst.read("control/listen.submission") == f"127.0.0.1:{inst.sub_port}\n".encode()
    assert inst.read("control/listen.smtps") == f"127.0.0.1:{inst.smtps_port}\n".encode()
    assert inst.read("control/tcp.submission") == b':allow,SUBMISSION=""\n'
    assert inst.read("control/tcp.smtps") == b':allow,SMTPS=""\n'
    for name in ("tcp.submission.cdb", "tcp.smtps.cdb"):
        assert os.path.getsize(os.path.join(inst.path, "control", name)) > 0, name


def test_no_submission_files_unless_asked(instance):
    names = os.listdir(os.path.join(instance.path, "control"))
    for n in ("listen.submission", "listen.smtps", "tcp.submission", "tcp.smtps"):
        assert n not in names, n


def test_init_refuses_bad_submission_address(qng_bin, tmp_path):
    r = subprocess.run([os.path.join(qng_bin, "qmailctl"), "init", str(tmp_path / "x"),
                        "--me", "example.test", "--submission", "nonsense"],
                       capture_output=True, timeout=60)
    assert r.returncode == 100, r
    assert b"--submission" in r.stderr


def test_submission_and_smtps(subhost):
    inst = subhost
    r = inst.ctl("start", timeout=60)
    out = r.stdout.decode()
    assert re.search(rf"^qmail-smtpd/submission: started \(pid \d+\) on "
                     rf"127.0.0.1:{inst.sub_port}$", out, re.M), out
    assert re.search(rf"^qmail-smtpd/smtps: started \(pid \d+\) on "
                     rf"127.0.0.1:{inst.smtps_port}$", out, re.M), out
    stat = inst.ctl("stat").stdout.decode()
    assert re.search(r"^qmail-smtpd/submission: up \(pid \d+\) \d+ seconds$", stat, re.M), stat
    assert re.search(r"^qmail-smtpd/smtps: up \(pid \d+\) \d+ seconds$", stat, re.M), stat

    # Submission: no MAIL before AUTH, not even for a local recipient.
    with smtplib.SMTP("127.0.0.1", inst.sub_port, timeout=30) as s:
        assert s.ehlo("client.test")[0] == 250
        assert s.has_extn("starttls")
        assert not s.has_extn("auth")  # not in the clear
        code, text = s.mail("amy@example.test")
        assert (code, text) == (530, b"5.7.0 authentication required"), (code, text)
        s.starttls(context=tls_client())
        s.ehlo("client.test")
        assert "PLAIN" in s.esmtp_features.get("auth", "").upper()
        code, text = s.mail("amy@example.test")
        assert code == 530, (code, text)  # still not logged in
        with pytest.raises(smtplib.SMTPAuthenticationError):
            s.login("amy@example.test", "wrong")
        s.user, s.password = "amy@example.test", "s3cret pass"  # AUTH PLAIN itself
        code, text = s.auth("PLAIN", s.auth_plain)
        assert code == 235, (code, text)
        assert s.mail("amy@example.test")[0] == 250
        # Authenticated: relays to a domain not in rcpthosts.
        code, text = s.rcpt("someone@remote.invalid")
        assert code == 250, (code, text)
        s.rset()

    # Without AUTH the submission port takes nothing, even over TLS.
    with smtplib.SMTP("127.0.0.1", inst.sub_port, timeout=30) as s:
        s.starttls(context=tls_client())
        s.ehlo("client.test")
        assert s.mail("x@remote.invalid")[0] == 530

    # SMTPS: TLS from the first byte; mail to amy arrives in her Maildir.
    with smtplib.SMTP_SSL("127.0.0.1", inst.smtps_port, timeout=30,
                          context=tls_client()) as s:
        assert s.ehlo("client.test")[0] == 250
        assert not s.has_extn("starttls")  # already under TLS
        s.login("amy@example.test", "s3cret pass")
        assert s.mail("amy@example.test")[0] == 250
        assert s.rcpt("amy@example.test")[0] == 250
        code, text = s.data(b"Subject: over smtps\r\n\r\nhello\r\n")
        assert code == 250, text
    new = os.path.join(inst.amy, "Maildir", "new")
    (name,) = inst.wait_for(lambda: os.listdir(new), what="delivery to amy")
    with open(os.path.join(new, name), "rb") as f:
        msg = f.read()
    assert msg.endswith(b"Subject: over smtps\n\nhello\n"), msg
    assert re.search(rb"  by example.test with ESMTPSA \(TLS", msg), msg

    # A plain SMTP client on the SMTPS port gets no greeting in the clear.
    with socket.create_connection(("127.0.0.1", inst.smtps_port), timeout=10) as c:
        c.sendall(b"EHLO client.test\r\n")
        c.settimeout(10)
        try:
            data = c.recv(100)
        except (ConnectionResetError, socket.timeout):
            data = b""
        assert not data.startswith(b"220 "), data

    r = inst.ctl("stop", timeout=90)
    assert b"qmail-smtpd/submission: stopped\n" in r.stdout
    assert b"qmail-smtpd/smtps: stopped\n" in r.stdout
