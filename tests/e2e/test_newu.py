# test_newu.py: qmail-newu (users/assign -> users/cdb) and qmail-newmrh
# (control/morercpthosts -> morercpthosts.cdb), checked with tinycdb's cdb.
import os
import subprocess

CDB = "/usr/bin/cdb"

ASSIGN = (
    "+:alias:7790:2108:/var/qmail/alias:-::\n"
    "+Joe-:joe:507:100:/home/joe:-:x-:\n"
    "=Joe.Smith:joe:507:100:/home/joe:::\n"
    "=joe.smith:second:1:1:/nowhere:::\n"
    ".\n"
)

# qmail-newu's records for ASSIGN, in file order (key, data).
RECORDS = [
    (b"!", b"alias\x007790\x002108\x00/var/qmail/alias\x00-\x00"),
    (b"!joe-", b"joe\x00507\x00100\x00/home/joe\x00-\x00x-"),
    (b"!joe.smith\x00", b"joe\x00507\x00100\x00/home/joe\x00\x00"),
    (b"!joe.smith\x00", b"second\x001\x001\x00/nowhere\x00\x00"),
    (b"", b"-"),
]


def native(records):
    """tinycdb's dump format: +klen,dlen:key->data per record, then a newline."""
    out = b""
    for k, d in records:
        out += b"+%d,%d:%s->%s\n" % (len(k), len(d), k, d)
    return out + b"\n"


def cdb_tool(*args):
    assert os.access(CDB, os.X_OK), f"{CDB} is missing (make deps installs tinycdb)"
    return subprocess.run([CDB, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=30)


def test_newu_compiles_assign(instance):
    instance.write("users/assign", ASSIGN)
    r = instance.run(["qmail-newu"])
    assert r.returncode == 0, r.stderr
    assert r.stderr == b""
    db = os.path.join(instance.path, "users/cdb")
    assert not os.path.exists(db + ".tmp")
    assert os.stat(db).st_mode & 0o777 == 0o644
    d = cdb_tool("-d", db)
    assert d.returncode == 0
    assert d.stdout == native(RECORDS)
    q = cdb_tool("-q", db, "!joe-")
    assert q.returncode == 0
    assert q.stdout == b"joe\x00507\x00100\x00/home/joe\x00-\x00x-"
    q = cdb_tool("-q", db, "")
    assert (q.returncode, q.stdout) == (0, b"-")
    q = cdb_tool("-q", db, "!nobody")
    assert q.returncode != 0 and q.stdout == b""


def test_newu_bad_assign_keeps_old_cdb(instance):
    instance.write("users/assign", ASSIGN)
    assert instance.run(["qmail-newu"]).returncode == 0
    db = os.path.join(instance.path, "users/cdb")
    before = instance.read("users/cdb")
    cases = [
        ("=a:u:1:1:/h:::\n", b"line 2"),                 # no final dot
        ("=a:u:1:1:/h::\n.\n", b"line 1"),               # a field short
        ("=a:u:1:1:/h:::\nbogus\n.\n", b"line 2"),       # not = or +
        ("=a:u:one:1:/h:::\n.\n", b"line 1"),            # uid not a number
    ]
    for text, where in cases:
        instance.write("users/assign", text)
        r = instance.run(["qmail-newu"])
        assert r.returncode == 111, (text, r.stderr)
        assert r.stderr.startswith(b"qmail-newu: fatal: bad format in users/assign: " + where), \
            r.stderr
        assert instance.read("users/cdb") == before
        assert not os.path.exists(db + ".tmp")


def test_newu_missing_assign(instance):
    os.unlink(os.path.join(instance.path, "users/assign"))
    r = instance.run(["qmail-newu"])
    assert r.returncode == 111
    assert r.stderr.startswith(b"qmail-newu: fatal: unable to read users/assign: ")


def test_newu_uses_qmailhome(instance):
    # Run from elsewhere: the instance comes from $QMAILHOME, not the cwd.
    instance.write("users/assign", "=x:u:5:6:/h/x:::\n.\n")
    r = instance.run(["qmail-newu"], cwd="/")
    assert r.returncode == 0, r.stderr
    d = cdb_tool("-d", os.path.join(instance.path, "users/cdb"))
    assert d.stdout == native([(b"!x\x00", b"u\x005\x006\x00/h/x\x00\x00"), (b"", b"")])


def test_newmrh(instance):
    instance.write("control/morercpthosts",
                   "Example.COM  \n# a comment\n\nother.test\t\n  lead.test\nlast.TEST")
    r = instance.run(["qmail-newmrh"])
    assert r.returncode == 0, r.stderr
    db = os.path.join(instance.path, "control/morercpthosts.cdb")
    d = cdb_tool("-d", db)
    assert d.stdout == native([(b"example.com", b""), (b"other.test", b""),
                               (b"  lead.test", b""), (b"last.test", b"")])
    assert cdb_tool("-q", db, "example.com").returncode == 0
    assert cdb_tool("-q", db, "Example.COM").returncode != 0

    before = instance.read("control/morercpthosts.cdb")
    os.unlink(os.path.join(instance.path, "control/morercpthosts"))
    r = instance.run(["qmail-newmrh"])
    assert r.returncode == 111
    assert r.stderr.startswith(b"qmail-newmrh: fatal: unable to read control/morercpthosts: ")
    assert instance.read("control/morercpthosts.cdb") == before


def test_help(instance):
    for prog in ("qmail-newu", "qmail-newmrh"):
        r = instance.run([prog, "--help"])
        assert r.returncode == 0
        assert r.stdout.startswith(b"usage: " + prog.encode())
