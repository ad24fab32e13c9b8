# test_local.py: qmail-local run directly, as qmail-lspawn runs it, against
# homes inside an instance: the bytes it writes into Maildirs and mboxes,
# the environment of program deliveries, the .qmail search order, the loop
# check, the permission checks, NEWSENDER, forwarding through a $QMAILQUEUE
# stand-in that records its fd 0 and fd 1, and -n.
import calendar
import os
import re
import stat
import time

import pytest

MESSAGE = b"Subject: test\nTo: joe@example.test\n\nFrom the start\n>From quoted\nbody\n"
DOMAIN = "example.test"


class Home:
    """One user's home in the instance, and a way to run qmail-local on it."""

    def __init__(self, inst, name):
        self.inst = inst
        self.name = name
        self.path = os.path.join(inst.path, "home", name)
        os.makedirs(self.path)
        os.chmod(self.path, 0o700)
        inst.chown(self.path)
        r = inst.run(["maildirmake", os.path.join(self.path, "Maildir")])
        assert r.returncode == 0, r.stderr
        self.msgno = 0

    def file(self, rel):
        return os.path.join(self.path, rel)

    def write(self, rel, text, mode=0o600):
        return self.inst.write(os.path.relpath(self.file(rel), self.inst.path), text, mode)

    def read(self, rel):
        with open(self.file(rel), "rb") as f:
            return f.read()

    def maildir(self, rel="Maildir"):
        """Messages in rel/new, oldest name first; tmp/ must be empty."""
        assert os.listdir(self.file(rel + "/tmp")) == []
        d = self.file(rel + "/new")
        return [open(os.path.join(d, n), "rb").read() for n in sorted(os.listdir(d))]

    def local(self, local=None, dash="", ext="", sender="alice@example.org", message=MESSAGE,
              default="./Maildir/", opts=("--",), env=None, stdin_file=True):
        """Runs qmail-local with the message on a real (seekable) file."""
        local = local if local is not None else self.name
        args = ["qmail-local", *opts, self.name, self.path, local, dash, ext, DOMAIN, sender,
                default]
        if not stdin_file:
            return self.inst.run(args, input=message, env=env, timeout=30)
        self.msgno += 1
        p = os.path.join(self.inst.root, f"msg-{self.name}-{self.msgno}")
        with open(p, "wb") as f:
            f.write(message)
        os.chmod(p, 0o644)
        with open(p, "rb") as f:
            return self.inst.run(args, stdin=f, env=env, timeout=30)


@pytest.fixture
def home(instance):
    return Home(instance, "joe")


def out(r):
    return r.stdout.decode(errors="replace")


def err(r):
    return r.stderr.decode(errors="replace")


def ufline_time(line):
    """Checks qmail's From_ date (ctime in GMT, day zero-padded) and returns it."""
    m = re.fullmatch(rb"From (\S+) ((?:Sun|Mon|Tue|Wed|Thu|Fri|Sat) "
                     rb"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                     rb"\d\d \d\d:\d\d:\d\d \d{4})\n", line)
    assert m, line
    t = calendar.timegm(time.strptime(m.group(2).decode(), "%a %b %d %H:%M:%S %Y"))
    assert abs(t - time.time()) < 300
    return m.group(1)


def test_maildir_bytes_exactly(home):
    r = home.local()
    assert r.returncode == 0, err(r)
    assert out(r) == "did 1+0+0\n"
    assert home.maildir() == [b"Return-Path: <alice@example.org>\n"
                              b"Delivered-To: joe@example.test\n" + MESSAGE]
    # A sender that needs quoting, and the bounce sender.
    assert home.local(sender="a b@example.org").returncode == 0
    assert home.local(sender="").returncode == 0
    got = sorted(m.split(b"\n", 1)[0] for m in home.maildir())
    assert got == sorted([b"Return-Path: <alice@example.org>",
                          b"Return-Path: <\"a b\"@example.org>", b"Return-Path: <>"])


def test_mbox_bytes_exactly(home):
    home.write(".qmail", "./Mailbox\n")
    r = home.local()
    assert r.returncode == 0, err(r)
    assert out(r) == "did 1+0+0\n"
    r = home.local(sender="", message=b"Subject: two\n\nFrom here\nno final newline")
    assert r.returncode == 0, err(r)
    data = home.read("Mailbox")
    assert stat.S_IMODE(os.stat(home.file("Mailbox")).st_mode) == 0o600
    first, rest = data.split(b"\n", 1)
    assert ufline_time(first + b"\n") == b"alice@example.org"
    want1 = (b"Return-Path: <alice@example.org>\nDelivered-To: joe@example.test\n"
             b"Subject: test\nTo: joe@example.test\n\n>From the start\n>>From quoted\nbody\n\n")
    assert rest.startswith(want1)
    second = rest[len(want1):]
    uf2, rest2 = second.split(b"\n", 1)
    assert ufline_time(uf2 + b"\n") == b"MAILER-DAEMON"
    assert rest2 == (b"Return-Path: <>\nDelivered-To: joe@example.test\n"
                     b"Subject: two\n\n>From here\nno final newline\n\n")
    assert home.maildir() == []


def test_program_environment_and_stdin(home):
    home.write(".qmail-foo-default",
               "|env -0 > envdump; cat > stdin.copy; pwd > cwd; echo said something\n")
    r = home.local(local="joe-Foo-Bar.Baz", dash="-", ext="Foo-Bar.Baz", sender="s@example.org")
    assert r.returncode == 0, err(r)
    assert out(r) == "said something\ndid 0+0+1\n"
    assert home.read("stdin.copy") == MESSAGE           # the message from byte 0, as is
    assert home.read("cwd") == home.path.encode() + b"\n"
    env = dict(kv.split(b"=", 1) for kv in home.read("envdump").split(b"\0") if kv)
    env = {k.decode(): v.decode() for k, v in env.items()}
    want = {
        "SENDER": "s@example.org",
        "NEWSENDER": "s@example.org",
        "RECIPIENT": "joe-Foo-Bar.Baz@example.test",
        "USER": "joe",
        "HOME": home.path,
        "LOCAL": "joe-Foo-Bar.Baz",
        "HOST": DOMAIN,
        "HOST2": "example",
        "HOST3": "example",
        "HOST4": "example",
        "EXT": "Foo-Bar.Baz",
        "EXT2": "Bar.Baz",
        "EXT3": "",
        "EXT4": "",
        "DEFAULT": "Bar.Baz",
        "DTLINE": "Delivered-To: joe-Foo-Bar.Baz@example.test\n",
        "RPLINE": "Return-Path: <s@example.org>\n",
    }
    for k, v in want.items():
        assert env.get(k) == v, k
    assert ufline_time(env["UFLINE"].encode()) == b"s@example.org"


def test_program_exit_codes(home):
    cases = [
        ("|exit 0\n./Maildir/\n", 0, 1),
        ("|exit 99\n./Maildir/\n", 0, 0),      # 99: success, later lines skipped
        ("|echo no way; exit 100\n./Maildir/\n", 100, 0),
        ("|exit 64\n", 100, 0),
        ("|exit 112\n", 100, 0),
        ("|echo later; exit 111\n./Maildir/\n", 111, 0),
        ("|exit 1\n", 111, 0),
        ("|kill -9 $$\n", 111, 0),
        ("./Maildir/\n|exit 100\n", 100, 1),   # earlier deliveries stay done
    ]
    for text, code, delivered in cases:
        for n in os.listdir(home.file("Maildir/new")):
            os.unlink(home.file("Maildir/new/" + n))
        home.write(".qmail", text)
        r = home.local()
        assert r.returncode == code, (text, out(r), err(r))
        assert len(home.maildir()) == delivered, text
    home.write(".qmail", "|exit 99\n")
    assert out(home.local()) == "did 0+0+1\n"
    home.write(".qmail", "|echo no way; exit 100\n")
    r = home.local()
    assert out(r) == "no way\n" and err(r) == ""
    home.write(".qmail", "|kill -9 $$\n")
    assert err(home.local()) == "Aack, child crashed. (#4.3.0)\n"


def test_dotqmail_search_order_and_default(home):
    for name in ("-foo-bar-default", "-foo-default", "-default", "-foo-bar-baz", "-a:b"):
        home.write(".qmail" + name, f'|echo "{name} [$DEFAULT]"\n')

    def who(ext):
        r = home.local(local="joe-" + ext, dash="-", ext=ext)
        assert r.returncode == 0, err(r)
        return out(r).split("\n")[0]

    assert who("Foo-Bar-Baz") == "-foo-bar-baz []"        # exact beats every default
    assert who("Foo-Bar-Qux") == "-foo-bar-default [Qux]"
    assert who("foo-x-y") == "-foo-default [x-y]"
    assert who("other") == "-default [other]"
    assert who("A.B") == "-a:b []"                         # '.' is ':' in file names
    os.unlink(home.file(".qmail-foo-bar-default"))
    assert who("foo-bar-qux") == "-foo-default [bar-qux]"
    os.unlink(home.file(".qmail-foo-default"))
    assert who("foo-bar-qux") == "-default [foo-bar-qux]"
    os.unlink(home.file(".qmail-default"))
    r = home.local(local="joe-nobody", dash="-", ext="nobody")
    assert r.returncode == 100
    assert err(r) == "Sorry, no mailbox here by that name. (#5.1.1)\n"
    # A .qmail that is not a regular file does not count.
    os.mkdir(home.file(".qmail-dir"))
    assert home.local(local="joe-dir", dash="-", ext="dir").returncode == 100


def test_default_delivery(home):
    # No .qmail and an empty dash: the default delivery.
    assert home.local(default="./Mailbox").returncode == 0
    assert home.read("Mailbox").count(b"\nDelivered-To: joe@example.test\n") == 1
    # An empty .qmail: the default delivery too, even with the x bit.
    home.write(".qmail", "", 0o700)
    r = home.local()
    assert (r.returncode, out(r)) == (0, "did 1+0+0\n")
    assert len(home.maildir()) == 1
    # A first line that is blank is an error; so is an empty default delivery.
    os.unlink(home.file(".qmail"))
    r = home.local(default="")
    assert (r.returncode, err(r)) == (111, "Uh-oh: first line of .qmail file is blank. (#4.2.1)\n")
    home.write(".qmail", "\n./Maildir/\n")
    r = home.local()
    assert (r.returncode, err(r)) == (111, "Uh-oh: first line of .qmail file is blank. (#4.2.1)\n")
    # Later blank lines and comments are ignored.
    home.write(".qmail", "# mine\n\n./Maildir/  \n")
    assert out(home.local()) == "did 1+0+0\n"
    assert len(home.maildir()) == 2


def test_loop_is_a_permanent_failure(home):
    looping = b"Received: x\nDelivered-To: joe@example.test\nSubject: y\n\nbody\n"
    r = home.local(message=looping)
    assert r.returncode == 100
    assert err(r) == ("This message is looping: it already has my Delivered-To line. (#5.4.6)\n")
    assert home.maildir() == []
    # Not a loop: in the body, another address, other case, or trailing space.
    for m in (b"Subject: y\n\nDelivered-To: joe@example.test\n",
              b"Delivered-To: bob@example.test\n\n",
              b"delivered-to: joe@example.test\n\n",
              b"Delivered-To: joe@example.test \n\n"):
        r = home.local(message=m)
        assert r.returncode == 0, (m, err(r))
    assert len(home.maildir()) == 4


def test_writable_files_and_sticky_home(home):
    home.write(".qmail", "./Maildir/\n", 0o602)
    r = home.local()
    assert (r.returncode, err(r)) == (111, "Uh-oh: .qmail file is writable. (#4.7.0)\n")
    home.write(".qmail", "./Maildir/\n", 0o644)     # group-writable is allowed (patrn 002)
    os.chmod(home.file(".qmail"), 0o664)
    assert home.local().returncode == 0
    os.chmod(home.path, 0o703)
    r = home.local()
    assert (r.returncode, err(r)) == (111, "Uh-oh: home directory is writable. (#4.7.0)\n")
    os.chmod(home.path, 0o1700)
    r = home.local()
    assert r.returncode == 111
    assert err(r) == "Home directory is sticky: user is editing his .qmail file. (#4.2.1)\n"
    r = home.local(opts=("-n", "--"))                 # -n only warns
    assert r.returncode == 0
    assert err(r) == "Warning: home directory is sticky.\n"
    os.chmod(home.path, 0o700)
    assert len(home.maildir()) == 1


def test_arguments_and_stdin(home):
    r = home.local(stdin_file=False)                   # a pipe cannot be rewound
    assert (r.returncode, err(r)) == (111, "Unable to rewind message. (#4.3.0)\n")
    r = home.inst.run(["qmail-local", "--", "joe", "relative", "joe", "", "", DOMAIN, "", "./M/"])
    assert r.returncode == 100 and "usage" in err(r)
    r = home.inst.run(["qmail-local", "--", "joe"])
    assert r.returncode == 100 and "usage" in err(r)
    r = home.inst.run(["qmail-local", "--", "joe", "/nonexistent/x", "joe", "", "", DOMAIN, "",
                       "./M/"])
    assert r.returncode == 111 and err(r).startswith("Unable to switch to /nonexistent/x: ")
    home.write(".qmail", "# " + "x" * (1 << 20) + "\n./Maildir/\n")
    assert home.local().returncode == 111
    os.unlink(home.file(".qmail"))
    # Unusable maildir and mbox: temporary failures with qmail's texts.
    home.write(".qmail", "./NoSuchMaildir/\n")
    r = home.local()
    assert (r.returncode, err(r)) == (111, "Unable to chdir to maildir. (#4.2.1)\n")
    home.write(".qmail", "./no/such/mbox\n")
    r = home.local()
    assert r.returncode == 111 and err(r).startswith("Unable to open ./no/such/mbox: ")


def test_plan_with_n(home):
    home.write(".qmail", "# comment\n./Maildir/\n./mbox\n|echo hi  \n&bob@example.org\n"
                         "carol@example.org\n+other\n")
    r = home.local(opts=("-n",))
    assert r.returncode == 0, err(r)
    assert out(r) == ("maildir ./Maildir/\nmbox ./mbox\nprogram echo hi\n"
                      "forward bob@example.org\nforward carol@example.org\ndid 2+2+1\n")
    assert home.maildir() == [] and not os.path.exists(home.file("mbox"))


@pytest.fixture
def fake_queue(instance):
    """A $QMAILQUEUE stand-in that records fd 0 (message) and fd 1 (envelope)."""
    d = instance.root
    script = os.path.join(d, "fake-qq")
    with open(script, "w") as f:
        f.write("#!/bin/sh\n"
                f"cat > {d}/qq.msg || exit 54\n"
                f"cat <&1 > {d}/qq.env || exit 54\n"
                f"[ -f {d}/qq.code ] && exit $(cat {d}/qq.code)\n"
                "exit 0\n")
    os.chmod(script, 0o755)

    class Q:
        env = {"QMAILQUEUE": script}

        def message(self):
            return open(os.path.join(d, "qq.msg"), "rb").read()

        def envelope(self):
            return open(os.path.join(d, "qq.env"), "rb").read()

        def exit_with(self, code):
            with open(os.path.join(d, "qq.code"), "w") as f:
                f.write(str(code))
            instance.chown(os.path.join(d, "qq.code"))

    return Q()


def test_forward_in_one_qmail_queue_call(home, fake_queue):
    home.write(".qmail", "&bob@example.org\ncarol@example.net\n./Maildir/\n")
    r = home.local(env=fake_queue.env)
    assert r.returncode == 0, err(r)
    assert re.fullmatch(r"did 1\+2\+0\nqp [1-9][0-9]*\n", out(r)), out(r)
    assert fake_queue.message() == b"Delivered-To: joe@example.test\n" + MESSAGE
    assert fake_queue.envelope() == (b"Falice@example.org\0Tbob@example.org\0"
                                     b"Tcarol@example.net\0\0")
    assert len(home.maildir()) == 1


def test_forward_rules(home, fake_queue):
    # 99 stops later lines, but forwards listed before it still go.
    home.write(".qmail", "bob@example.org\n|exit 99\ncarol@example.org\n")
    r = home.local(env=fake_queue.env)
    assert r.returncode == 0, err(r)
    assert out(r).startswith("did 0+1+1\nqp ")
    assert fake_queue.envelope() == b"Falice@example.org\0Tbob@example.org\0\0"
    # The x bit (or +list) allows forwards only.
    home.write(".qmail", "bob@example.org\n./Maildir/\n", 0o700)
    r = home.local(env=fake_queue.env)
    assert (r.returncode, err(r)) == (
        111, "Uh-oh: .qmail has file delivery but has x bit set. (#4.7.0)\n")
    home.write(".qmail", "+list\nbob@example.org\n|echo hi\n", 0o600)
    r = home.local(env=fake_queue.env)
    assert (r.returncode, err(r)) == (
        111, "Uh-oh: .qmail has prog delivery but has x bit set. (#4.7.0)\n")
    # qmail-queue's verdict decides the exit code.
    home.write(".qmail", "bob@example.org\n")
    fake_queue.exit_with(31)
    r = home.local(env=fake_queue.env)
    assert (r.returncode, err(r)) == (
        100, "Unable to forward message: mail server permanently rejected message (#5.3.0).\n")
    fake_queue.exit_with(53)
    r = home.local(env=fake_queue.env)
    assert (r.returncode, err(r)) == (
        111, "Unable to forward message: qq write error or disk full (#4.3.0).\n")


def test_owner_sets_newsender(home, fake_queue):
    home.write(".qmail-list", "bob@example.org\n")
    run = lambda sender="alice@example.org": home.local(  # noqa: E731
        local="joe-list", dash="-", ext="list", sender=sender, env=fake_queue.env)
    assert run().returncode == 0
    assert fake_queue.envelope().startswith(b"Falice@example.org\0")
    home.write(".qmail-list-owner", "alice@example.org\n")
    assert run().returncode == 0
    assert fake_queue.envelope().startswith(b"Fjoe-list-owner@example.test\0")
    home.write(".qmail-list-owner-default", "alice@example.org\n")
    assert run().returncode == 0
    assert fake_queue.envelope().startswith(b"Fjoe-list-owner-@example.test-@[]\0")
    for sender in ("", "#@[]"):                        # bounces keep their sender
        assert run(sender).returncode == 0
        assert fake_queue.envelope().startswith(b"F" + sender.encode() + b"\0")
