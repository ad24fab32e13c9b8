# test_manage.py: qmailctl check (each kind of problem it finds, on a real
# instance) and the user and domain commands (adddomain, deldomain,
# adduser, deluser, addalias, listusers): mail to a new virtual address
# through qmail-inject and through SMTP lands in DIR/home/DOMAIN/LOCAL/Maildir,
# an unknown or deleted address is refused at RCPT.
import os
import smtplib
import subprocess
import tempfile
import time

import pytest

from conftest import free_port


def ctl(inst, *args, input=None):
    return inst.ctl(*args, input=input, check=False)


def out(r):
    return r.stdout.decode(errors="replace")


def check(inst):
    r = ctl(inst, "check")
    return r.returncode, out(r), r.stderr.decode(errors="replace")


def test_check_fresh_instance_is_ok(instance):
    assert check(instance) == (0, "OK\n", "")


def test_check_cannot_run(instance):
    r = instance.run([os.path.join(instance.bin, "qmailctl"), "-d",
                      os.path.join(instance.root, "nothing-here"), "check"])
    assert r.returncode == 111, r
    r = instance.run([os.path.join(instance.bin, "qmailctl"), "-d", instance.root, "check"])
    assert r.returncode == 111 and b"not an instance" in r.stderr


def make_cert(inst, expired, other_key=False):
    """A self-signed certificate and its key for mail.example.test, valid
    now, or expired in 2020 (openssl ca -startdate/-enddate; Debian 12's
    openssl req refuses -days 0 and has no -not_after)."""
    d = tempfile.mkdtemp(prefix="qng-ca-", dir=inst.root)
    open(os.path.join(d, "index.txt"), "w").close()
    with open(os.path.join(d, "serial"), "w") as f:
        f.write("01\n")
    with open(os.path.join(d, "cfg"), "w") as f:
        f.write(f"[ca]\ndefault_ca = c\n[c]\ndatabase = {d}/index.txt\nnew_certs_dir = {d}\n"
                f"serial = {d}/serial\ndefault_md = sha256\npolicy = p\n"
                "[p]\ncommonName = supplied\n")
    run = lambda *a: subprocess.run(a, cwd=d, check=True, capture_output=True, timeout=60)
    run("openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem",
        "-out", "req.csr", "-subj", "/CN=mail.example.test")
    dates = ["-startdate", "20200101000000Z", "-enddate", "20200102000000Z"] if expired \
        else ["-days", "365"]
    run("openssl", "ca", "-batch", "-config", "cfg", "-selfsign", "-keyfile", "key.pem",
        "-in", "req.csr", "-out", "cert.pem", "-notext", *dates)
    if other_key:
        run("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
            "-out", "key.pem")
    cert = open(os.path.join(d, "cert.pem")).read() + open(os.path.join(d, "key.pem")).read()
    inst.write("control/servercert.pem", cert, 0o640)


def world_writable_dot_qmail(inst):
    inst.write("alias/.qmail-info", "./Maildir/\n", 0o666)
    return "alias/.qmail-info: world-writable"


def forward_only_with_program(inst):
    inst.write("alias/.qmail-fwd", "&joe@example.org\n|cat\n", 0o744)
    return "alias/.qmail-fwd:2: in an executable (forward-only) file, a program or file line"


def empty_of_deliveries(inst):
    inst.write("alias/.qmail-void", "\n# nothing\n", 0o644)
    return "alias/.qmail-void: no delivery instructions"


def unreadable_dot_qmail(inst):
    inst.write("alias/.qmail-secret", "./Maildir/\n", 0o000)
    return f"alias/.qmail-secret: uid {inst.user.uid} cannot read it"


def bad_assign_line(inst):
    inst.write("users/assign", "=jo:someone:1:2:/x:::\n=bob:too:few\n.\n")
    return "users/assign:2: too few fields"


def assign_foreign_uid(inst):
    home = inst.add_user("jo")
    text = inst.read("users/assign").decode().replace(f":{inst.user.uid}:", ":4242:", 1)
    inst.write("users/assign", text)
    inst.ctl("cdb", check=False)
    return f"users/assign:1: uid 4242 is not the instance owner's ({inst.user.uid})"


def assign_missing_home(inst):
    inst.write("users/assign", f"=jo:{inst.user.name}:{inst.user.uid}:{inst.user.gid}:"
                               f"{inst.path}/home/nobody-made-it:::\n.\n")
    inst.ctl("cdb")
    return f"users/assign:1: home {inst.path}/home/nobody-made-it does not exist"


def expired_certificate(inst):
    make_cert(inst, expired=True)
    return "control/servercert.pem: the certificate expired on Jan  2 00:00:00 2020 GMT"


def mismatched_key(inst):
    make_cert(inst, expired=False, other_key=True)
    return "control/servercert.pem: the private key does not match the certificate"


def undelivered_rcpthost(inst):
    inst.write("control/rcpthosts", "example.test\nlocalhost\nnowhere.test\n")
    return "control/rcpthosts:3: nowhere.test is accepted, but nothing delivers it"


def stale_users_cdb(inst):
    p = os.path.join(inst.path, "users/assign")
    later = time.time() + 5
    os.utime(p, (later, later))
    return "users/cdb: older than users/assign: run qmailctl cdb"


def stale_tcp_cdb(inst):
    p = os.path.join(inst.path, "control/tcp.smtp")
    later = time.time() + 5
    os.utime(p, (later, later))
    return "control/tcp.smtp.cdb: older than control/tcp.smtp: run qmailctl cdb"


def bad_tcp_rule(inst):
    inst.write("control/tcp.smtp", "127.:allow\n1.2.3.4:frobnicate\n")
    return 'control/tcp.smtp:2: not a tcprules line'


def not_a_number(inst):
    inst.write("control/databytes", "10 MB\n")
    return 'control/databytes:1: not a number: "10 MB"'


def virtualdomains_without_colon(inst):
    inst.write("control/virtualdomains", "example.org\n")
    return "control/virtualdomains:1: no colon"


def bad_locals_line(inst):
    inst.write("control/locals", "example.test\nnot a domain\n")
    return 'control/locals:2: not a domain name: "not a domain"'


def bad_smtproute(inst):
    inst.write("control/smtproutes", "example.net:relay.example.net:99999\n")
    return 'control/smtproutes:1: bad port "99999"'


def dkim_key_mode(inst):
    inst.ctl("dkim-keygen", "example.test")
    p = os.path.join(inst.path, "control/dkim/example.test/default.key")
    os.chmod(p, 0o644)
    return "control/dkim/example.test/default.key: mode 0644"


PROBLEMS = [world_writable_dot_qmail, forward_only_with_program, empty_of_deliveries,
            bad_assign_line, assign_foreign_uid, assign_missing_home, expired_certificate,
            mismatched_key, undelivered_rcpthost, stale_users_cdb, stale_tcp_cdb, bad_tcp_rule,
            not_a_number, virtualdomains_without_colon, bad_locals_line, bad_smtproute,
            dkim_key_mode, unreadable_dot_qmail]


@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda f: f.__name__)
def test_check_finds(instance, problem):
    want = problem(instance)
    code, text, err = check(instance)
    assert code == 1, (text, err)
    assert any(l.startswith(want) for l in text.splitlines()), text
    assert text.splitlines()[-1].startswith("check: "), text
    assert "OK" not in text.splitlines()


def test_check_warnings_only(instance):
    instance.write("control/frobnicate", "1\n")
    instance.write("alias/.qmail-blank", "\n./Maildir/\n")
    code, text, _ = check(instance)
    assert code == 0, text
    assert text == ("control/frobnicate: warning: unknown control file: no program reads it\n"
                    "alias/.qmail-blank:1: warning: blank first line (the file is not empty, "
                    "so the default delivery is not used)\n"
                    "check: 0 errors, 2 warnings\n")


def test_check_good_certificate(instance):
    make_cert(instance, expired=False)
    assert check(instance) == (0, "OK\n", "")


def inject(inst, to, body, sender="alice@example.test"):
    r = inst.run(["qmail-inject", f"-f{sender}", to], input=body)
    assert r.returncode == 0, r.stderr


def messages(inst, maildir):
    return list(inst.maildir_messages(maildir).values())


def test_virtual_domain_through_inject(instance):
    inst = instance
    r = ctl(inst, "adddomain", "Example.ORG")
    assert (r.returncode, out(r)) == (0, "adddomain: added virtual domain example.org\n")
    assert inst.read("control/virtualdomains") == b"example.org:example.org\n"
    assert inst.read("control/rcpthosts") == b"example.test\nlocalhost\nexample.org\n"
    r = ctl(inst, "adduser", "jo@example.org", "--password-stdin", input="pass word\n")
    home = os.path.join(inst.path, "home/example.org/jo")
    assert (r.returncode, out(r)) == (0, f"adduser: added jo@example.org, mail in {home}/Maildir/\n")
    u = inst.user
    assert inst.read("users/assign") == \
        f"=example.org-jo:{u.name}:{u.uid}:{u.gid}:{home}:::\n.\n".encode()
    st = os.stat(home)
    assert (st.st_uid, st.st_mode & 0o777) == (u.uid, 0o700)
    assert inst.read("users/passwd").startswith(b"jo@example.org:$y$")
    ctl(inst, "adduser", "bob@example.test")
    r = ctl(inst, "addalias", "info@example.org", "jo@example.org", "bob")
    assert r.returncode == 0, r
    assert inst.read("alias/.qmail-example:org-info") == b"&jo@example.org\n&bob\n"
    assert check(inst) == (0, "OK\n", "")
    r = ctl(inst, "listusers")
    assert out(r) == (f"bob@example.test {inst.path}/home/bob\n"
                      "info@example.org -> jo@example.org, bob\n"
                      f"jo@example.org {home}\n"
                      "mailer-daemon@example.test -> ./Maildir/\n"
                      "postmaster@example.test -> ./Maildir/\n"
                      "root@example.test -> ./Maildir/\n")
    r = ctl(inst, "listusers", "example.org")
    assert out(r) == f"info@example.org -> jo@example.org, bob\njo@example.org {home}\n"

    inst.ctl("start")
    try:
        inject(inst, "jo@example.org", "Subject: hello jo\n\nvirtual\n")
        md = os.path.join(home, "Maildir")
        (msg,) = inst.wait_for(lambda: messages(inst, md), what="delivery to jo")
        assert msg.endswith(b"Subject: hello jo\n\nvirtual\n")
        inject(inst, "info@example.org", "Subject: to info\n\nalias\n")
        inst.wait_for(lambda: len(messages(inst, md)) == 2, what="jo's copy through info@")
        bob = os.path.join(inst.path, "home/bob/Maildir")
        (b,) = inst.wait_for(lambda: messages(inst, bob), what="bob's copy through info@")
        assert b.endswith(b"Subject: to info\n\nalias\n")
        # A domain added while qmail-send runs: HUP makes it re-read virtualdomains.
        assert ctl(inst, "adddomain", "second.test").returncode == 0
        assert ctl(inst, "adduser", "amy@second.test").returncode == 0
        inject(inst, "amy@second.test", "Subject: second\n\nafter HUP\n")
        amy = os.path.join(inst.path, "home/second.test/amy/Maildir")
        inst.wait_for(lambda: messages(inst, amy), what="delivery to amy@second.test")
    finally:
        inst.ctl("stop")


def test_virtual_domain_through_smtp(make_instance):
    port = free_port()
    inst = make_instance(args=["--smtp", f"127.0.0.1:{port}"])
    assert ctl(inst, "adddomain", "example.org").returncode == 0
    assert ctl(inst, "adduser", "jo@example.org").returncode == 0
    assert ctl(inst, "adduser", "kim@example.org").returncode == 0
    inst.ctl("start")
    md = os.path.join(inst.path, "home/example.org/jo/Maildir")
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
        assert s.ehlo("client.test")[0] == 250
        assert s.mail("sender@remote.test")[0] == 250
        assert s.rcpt("jo@example.org")[0] == 250
        code, text = s.rcpt("nobody@example.org")
        assert (code, text[:5]) == (550, b"5.1.1"), (code, text)
        code, text = s.data(b"Subject: by smtp\r\n\r\nhello\r\n")
        assert code == 250, text
    (msg,) = inst.wait_for(lambda: messages(inst, md), what="delivery to jo by SMTP")
    assert msg.endswith(b"Subject: by smtp\n\nhello\n")

    r = ctl(inst, "deluser", "jo@example.org")
    assert (r.returncode, out(r)) == (
        0, f"deluser: removed jo@example.org and {inst.path}/home/example.org/jo\n")
    assert not os.path.exists(os.path.join(inst.path, "home/example.org/jo"))
    assert b"example.org-jo" not in inst.read("users/assign")
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
        s.ehlo("client.test")
        s.mail("sender@remote.test")
        assert s.rcpt("jo@example.org")[0] == 550
        assert s.rcpt("kim@example.org")[0] == 250
    # --keep-mail keeps the Maildir; adduser takes it over again.
    kim = os.path.join(inst.path, "home/example.org/kim/Maildir")
    r = ctl(inst, "deluser", "kim@example.org", "--keep-mail")
    assert r.returncode == 0 and os.path.isdir(kim), r
    assert ctl(inst, "adduser", "kim@example.org").returncode == 0
    assert check(inst) == (0, "OK\n", "")


def test_refusals(instance):
    inst = instance
    def refused(*args, want):
        r = ctl(inst, *args)
        assert r.returncode == 100, r
        assert want in r.stderr.decode(), r.stderr
    refused("adduser", "jo@elsewhere.test", want="elsewhere.test is not a domain of this instance")
    refused("adduser", "j:o@example.test", want="bad local part")
    refused("adddomain", "example.test", want="is a local domain")
    refused("adddomain", "bad domain", want="bad domain name")
    assert ctl(inst, "adddomain", "example.org").returncode == 0
    refused("adddomain", "example.org", want="already in control/virtualdomains")
    assert ctl(inst, "adduser", "jo@example.org").returncode == 0
    refused("adduser", "JO@example.org", want="jo@example.org exists already")
    refused("addalias", "jo@example.org", "x@y.test", want="is a user")
    refused("addalias", "a@example.org", "|rm -rf /", want="bad target address")
    refused("deluser", "nobody@example.org", want="no such user or alias: nobody@example.org")
    refused("listusers", "elsewhere.test", want="not a domain of this instance")
    refused("deldomain", "elsewhere.test", want="not a virtual domain")
    refused("deldomain", "example.org", want="still has 1 user(s) and 0 alias(es)")
    r = ctl(inst, "adduser", "pw@example.org", "--password-stdin", input="")
    assert r.returncode == 100 and b"no usable password" in r.stderr
    assert b"pw@" not in inst.read("users/assign")
    assert ctl(inst, "adduser").returncode == 100

    echo = ctl(inst, "--help")
    for word in (b"check", b"adddomain", b"deldomain", b"adduser", b"deluser", b"addalias",
                 b"listusers"):
        assert word in echo.stdout

    # --force takes the users, their passwords and the domain's homes.
    assert ctl(inst, "passwd", "jo@example.org", input="x\n").returncode == 0
    assert ctl(inst, "addalias", "info@example.org", "jo@example.org").returncode == 0
    r = ctl(inst, "deldomain", "example.org", "--force")
    assert r.returncode == 0, r
    assert inst.read("control/virtualdomains") == b""
    assert inst.read("control/rcpthosts") == b"example.test\nlocalhost\n"
    assert inst.read("users/assign") == b".\n"
    assert b"jo@example.org" not in inst.read("users/passwd")
    assert not os.path.exists(os.path.join(inst.path, "alias/.qmail-example:org-info"))
    assert not os.path.exists(os.path.join(inst.path, "home/example.org"))
    assert check(inst) == (0, "OK\n", "")
