# test_dkim.py: DKIM signing (qmail-dkim sign, the library qmail-remote
# calls) checked by an independent verifier, Debian's dkimpy, with the DNS
# records qmail-dkim keygen printed standing in for DNS. Messages are
# verified as qmail-remote sends them: every line break CRLF.
import os
import re
import stat

import dkim
import pytest

MESSAGE = (
    b"Received: from somewhere by here\n"
    b"From: Alice Example <alice@example.org>\n"
    b"To: Bob <bob@example.net>\n"
    b"Subject: Lunch   tomorrow?\n"
    b"  folded subject line\n"
    b"Date: Sun, 3 Mar 2024 09:05:01 +0000\n"
    b"Message-ID: <lunch.1@example.org>\n"
    b"MIME-Version: 1.0\n"
    b"Content-Type: text/plain; charset=utf-8\n"
    b"\n"
    b"Hello  Bob,\n"
    b"\n"
    b"shall we meet at noon?   \n"
    b".\n"
    b"..a line with dots\n"
    b"\n"
    b"\n"
)


def wire(msg):
    """The bytes qmail-remote sends (before dot-stuffing, which the
    receiver undoes): LF, CRLF and a bare CR each become CRLF, and a partial
    last line gets CRLF."""
    msg = msg.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if msg and not msg.endswith(b"\n"):
        msg += b"\n"
    return msg.replace(b"\n", b"\r\n")


class Dns:
    """TXT records from qmail-dkim keygen/dns output."""

    def __init__(self):
        self.records = {}

    def add(self, output):
        line = output.decode().strip()
        name, txt = line.split(" IN TXT ", 1)
        strings = re.findall(r'"([^"]*)"', txt)
        assert all(len(s) <= 255 for s in strings), line
        assert txt == " ".join(f'"{s}"' for s in strings), line
        self.records[name.encode()] = "".join(strings).encode()
        return name

    def __call__(self, name, timeout=5):
        return self.records.get(name)


def keygen(inst, dns, *args):
    r = inst.run(["qmail-dkim", "keygen", *args])
    assert r.returncode == 0, r.stderr
    assert r.stderr == b""
    return dns.add(r.stdout)


def sign(inst, sender, msg, code=0):
    r = inst.run(["qmail-dkim", "sign", sender], input=msg)
    assert r.returncode == code, r.stderr
    return r


def signatures(signed):
    """The DKIM-Signature fields at the top, unfolded, as tag dicts."""
    sigs = []
    for m in re.finditer(rb"^DKIM-Signature:(.*(?:\n[ \t].*)*)\n", signed, re.M):
        value = re.sub(rb"\s+", b"", m.group(1))
        sigs.append(dict(t.split(b"=", 1) for t in value.split(b";") if t))
    return sigs


def verify_all(msg, dns):
    """dkimpy's result for every signature of msg (as sent)."""
    n = len(signatures(msg))
    assert n > 0
    results = []
    for i in range(n):
        d = dkim.DKIM(wire(msg))
        try:
            results.append(bool(d.verify(idx=i, dnsfunc=dns)))
        except dkim.ValidationError:  # the body hash does not match
            results.append(False)
    return results


def check_tampering(signed, dns):
    n = len(signatures(signed))
    assert verify_all(signed, dns) == [True] * n
    body_changed = signed.replace(b"meet at noon", b"meet at n0on")
    assert body_changed != signed
    assert verify_all(body_changed, dns) == [False] * n
    subject_changed = signed.replace(b"Lunch   tomorrow", b"Lunch tomorrow!")
    assert subject_changed != signed
    assert verify_all(subject_changed, dns) == [False] * n
    # Fields the signature does not cover may be added, as relays do.
    added = b"Received: from relay by mx\nX-Spam-Score: 0\n" + signed
    assert verify_all(added, dns) == [True] * n
    # A second From: is caught: From is signed once more than it occurs.
    assert verify_all(b"From: mallory@evil.example\n" + signed, dns) == [False] * n
    # Relaxed canonicalization: white space changes and refolding pass.
    respaced = signed.replace(b"Hello  Bob,", b"Hello \t Bob,  ").replace(
        b"Lunch   tomorrow?\n  folded", b"Lunch tomorrow?\n\tfolded")
    assert respaced != signed
    assert verify_all(respaced, dns) == [True] * n


def test_keygen_files_and_records(instance):
    dns = Dns()
    name = keygen(instance, dns, "Example.ORG")
    assert name == "default._domainkey.example.org."
    rec = dns.records[name.encode()]
    assert rec.startswith(b"v=DKIM1; k=rsa; p=MIIBIjAN")
    key = os.path.join(instance.path, "control/dkim/example.org/default.key")
    st = os.stat(key)
    assert stat.S_IMODE(st.st_mode) == 0o600
    assert st.st_uid == instance.user.uid
    with open(key, "rb") as f:
        assert f.read().startswith(b"-----BEGIN PRIVATE KEY-----\n")

    name = keygen(instance, dns, "example.org", "ed25519")
    assert name == "ed25519._domainkey.example.org."
    assert re.fullmatch(rb"v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=", dns.records[name.encode()])
    name = keygen(instance, dns, "example.org", "2024e", "ed25519")
    assert name == "2024e._domainkey.example.org."

    # Never replaces a key.
    with open(key, "rb") as f:
        before = f.read()
    r = instance.run(["qmail-dkim", "keygen", "example.org", "default", "rsa"])
    assert r.returncode == 100 and r.stdout == b""
    assert b"exists" in r.stderr
    with open(key, "rb") as f:
        assert f.read() == before
    assert sorted(os.listdir(os.path.dirname(key))) == ["2024e.key", "default.key", "ed25519.key"]

    # dns prints the same record again.
    r = instance.run(["qmail-dkim", "dns", "example.org", "ed25519"])
    assert r.returncode == 0
    assert r.stdout.decode().strip().startswith("ed25519._domainkey.example.org. IN TXT ")
    assert Dns().add(r.stdout) and dns.records[b"ed25519._domainkey.example.org."] in r.stdout

    for bad in (["keygen", "../etc"], ["keygen", "example.org", "a/b"], ["keygen"],
                ["dns", "example.org"], ["frobnicate"]):
        r = instance.run(["qmail-dkim", *bad])
        assert r.returncode == 100, bad
    r = instance.run(["qmail-dkim", "--help"])
    assert r.returncode == 0 and b"usage" in r.stdout


def test_sign_rsa(instance):
    dns = Dns()
    keygen(instance, dns, "example.org")
    r = sign(instance, "alice@example.org", MESSAGE)
    assert r.stdout.endswith(MESSAGE)
    head = r.stdout[: -len(MESSAGE)]
    assert all(len(line) <= 78 for line in head.split(b"\n")), head
    assert b"\r" not in head
    (sig,) = signatures(r.stdout)
    assert sig[b"a"] == b"rsa-sha256"
    assert sig[b"c"] == b"relaxed/relaxed"
    assert sig[b"d"] == b"example.org" and sig[b"s"] == b"default"
    assert b"l" not in sig and int(sig[b"t"]) > 1700000000
    h = sig[b"h"].split(b":")
    assert h.count(b"from") == 2  # oversigned
    assert set(h) == {b"from", b"to", b"subject", b"date", b"message-id", b"mime-version",
                      b"content-type"}
    check_tampering(r.stdout, dns)
    # dkim.verify, the plain entry point, agrees.
    assert dkim.verify(wire(r.stdout), dnsfunc=dns)


def test_sign_ed25519_and_dual(instance):
    dns = Dns()
    keygen(instance, dns, "example.org", "ed25519")
    r = sign(instance, "alice@example.org", MESSAGE)
    (sig,) = signatures(r.stdout)
    assert sig[b"a"] == b"ed25519-sha256" and sig[b"s"] == b"ed25519"
    check_tampering(r.stdout, dns)

    # With an RSA key as well: two signatures, RSA first, both valid.
    keygen(instance, dns, "example.org", "2024r", "rsa")
    r = sign(instance, "alice@example.org", MESSAGE)
    sigs = signatures(r.stdout)
    assert [(s[b"a"], s[b"s"]) for s in sigs] == [(b"rsa-sha256", b"2024r"),
                                                  (b"ed25519-sha256", b"ed25519")]
    assert sigs[0][b"bh"] == sigs[1][b"bh"]
    check_tampering(r.stdout, dns)


def test_domain_choice(make_instance):
    inst = make_instance()
    dns = Dns()
    keygen(inst, dns, "example.org", "ed25519")
    keygen(inst, dns, "lists.example.net", "ed25519")
    msg = MESSAGE.replace(b"alice@example.org", b"alice@Lists.Example.NET")
    # The From: domain has a key: d= aligns with From: (DMARC).
    r = sign(inst, "bounces@example.org", msg)
    (sig,) = signatures(r.stdout)
    assert sig[b"d"] == b"lists.example.net"
    assert verify_all(r.stdout, dns) == [True]
    # It has none: the envelope sender's domain signs.
    msg = MESSAGE.replace(b"alice@example.org", b"alice@nokey.example")
    r = sign(inst, "bounces@example.org", msg)
    (sig,) = signatures(r.stdout)
    assert sig[b"d"] == b"example.org"
    assert verify_all(r.stdout, dns) == [True]
    # Neither has one: the message passes unchanged, exit 0, a warning.
    r = sign(inst, "x@nokey.example", msg)
    assert r.stdout == msg
    assert b"not signed" in r.stderr
    # A bounce (empty sender) signs with its From: domain.
    bounce = b"From: MAILER-DAEMON@example.org\nSubject: failure notice\n\nsorry\n"
    r = sign(inst, "", bounce)
    (sig,) = signatures(r.stdout)
    assert sig[b"d"] == b"example.org"
    assert verify_all(r.stdout, dns) == [True]


def test_eightbit_long_lines_odd_endings_and_empty_bodies(instance):
    dns = Dns()
    keygen(instance, dns, "example.org", "ed25519")
    keygen(instance, dns, "example.org", "r", "rsa")
    cases = {
        "8bit": (b"From: J\xc3\xbcrgen <j@example.org>\nSubject: Gr\xc3\xbc\xc3\x9fe \xff\n"
                 b"Content-Transfer-Encoding: 8bit\n\n"
                 b"\xc3\xa4\xc3\xb6\xc3\xbc  \xe2\x82\xac\t\n" + b"x" * 5000 + b"\n"
                 + b"y " * 3000 + b"\n"),
        "long-header": (b"From: a@example.org\nTo: " +
                        b", ".join(b"user%d@example.net" % i for i in range(300)) +
                        b"\nSubject: many\n\nbody\n"),
        "empty-body": b"From: a@example.org\nSubject: nothing\n\n",
        "no-body-no-blank": b"From: a@example.org\nSubject: nothing\n",
        "only-blank-lines": b"From: a@example.org\n\n\n\n\n",
        "partial-last-line": b"From: a@example.org\n\nno newline at the end",
        "bare-cr-and-crlf": b"From: a@example.org\r\nSubject: crlf\r\n\r\none\rtwo\r\nthree\n",
        "nul-byte": b"From: a@example.org\n\nnul\x00byte\n",
    }
    for what, msg in cases.items():
        r = sign(instance, "a@example.org", msg)
        assert r.stdout.endswith(msg), what
        assert verify_all(r.stdout, dns) == [True, True], what
        tampered = r.stdout + b"\nappended\n"
        assert verify_all(tampered, dns) == [False, False], what


def test_seekable_input_and_big_body(instance):
    dns = Dns()
    keygen(instance, dns, "example.org", "ed25519")
    body = b"".join(b"line %d of a big message  \n" % i for i in range(50000))
    msg = b"From: a@example.org\nSubject: big\n\n" + body
    path = instance.write("msg", msg)
    with open(path, "rb") as f:
        r = instance.run(["qmail-dkim", "sign", "a@example.org"], stdin=f)
    assert r.returncode == 0, r.stderr
    assert r.stdout.endswith(msg)
    assert verify_all(r.stdout, dns) == [True]
    piped = sign(instance, "a@example.org", msg)
    assert signatures(piped.stdout)[0][b"bh"] == signatures(r.stdout)[0][b"bh"]


def test_unusable_key_defers(instance):
    dns = Dns()
    keygen(instance, dns, "example.org", "ed25519")
    key = os.path.join(instance.path, "control/dkim/example.org/ed25519.key")
    os.chmod(key, 0o640)
    r = sign(instance, "a@example.org", MESSAGE, code=111)
    assert r.stdout == b""
    assert b"control/dkim/example.org/ed25519.key" in r.stderr
    assert b"chmod 600" in r.stderr
    os.chmod(key, 0o600)
    instance.write("control/dkim/example.org/broken.key", b"garbage\n", 0o600)
    r = sign(instance, "a@example.org", MESSAGE, code=111)
    assert r.stdout == b"" and b"broken.key" in r.stderr
    # Other names are not keys.
    os.rename(os.path.join(instance.path, "control/dkim/example.org/broken.key"),
              os.path.join(instance.path, "control/dkim/example.org/broken.key.off"))
    r = sign(instance, "a@example.org", MESSAGE)
    assert verify_all(r.stdout, dns) == [True]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_keygen_as_root_gives_key_to_remote_user(instance):
    """Run by root, keygen hands the key to the owner of queue/lock/tcpto:
    the user qmail-remote runs as (here the test user)."""
    import subprocess
    env = instance.env()
    r = subprocess.run([os.path.join(instance.bin, "qmail-dkim"), "keygen", "example.org",
                        "ed25519"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    st = os.stat(os.path.join(instance.path, "control/dkim/example.org/ed25519.key"))
    assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (instance.user.uid, 0o600)
    dns = Dns()
    dns.add(r.stdout)
    r = sign(instance, "a@example.org", MESSAGE)
    assert verify_all(r.stdout, dns) == [True]
