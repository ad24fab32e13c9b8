# test_inject.py: qmail-inject on a real instance, run as the instance's
# user. $QMAILQUEUE points at a small recording script of the test's own
# (it saves what qmail-inject gives qmail-queue: the message on fd 0, the
# envelope on fd 1), so every byte of the rewritten header and of the
# envelope is checked; the last test queues for real through bin/qmail-queue.
import calendar
import os
import re
import time

import pytest

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
DATE_RE = re.compile(rb"^Date: (\d{1,2}) (\w{3}) (\d{4}) (\d\d):(\d\d):(\d\d) -0000\n", re.M)
MSGID_RE = re.compile(rb"^Message-ID: <(\d{14})\.(\d+)\.qmail@([^>]+)>\n", re.M)
SPLIT = 23


def recorder(inst, name="qq", code=0, fd6=None):
    """A qmail-queue stand-in: saves fd 0 to ROOT/NAME.msg and fd 1 to
    ROOT/NAME.env, writes fd6 (if any) on fd 6, exits code."""
    base = os.path.join(inst.root, name)
    lines = ["#!/bin/sh", f"cat > {base}.msg || exit 54", f"cat <&1 > {base}.env || exit 54"]
    if fd6 is not None:
        lines.append(f"printf '%s' '{fd6}' >&6")
    lines.append(f"exit {code}")
    path = base + ".sh"
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(path, 0o755)
    return path


def recorded(inst, name="qq"):
    base = os.path.join(inst.root, name)
    with open(base + ".msg", "rb") as m, open(base + ".env", "rb") as e:
        return m.read(), e.read()


def was_run(inst, name="qq"):
    return os.path.exists(os.path.join(inst.root, name + ".msg"))


def controls(inst):
    """Names that differ, so that each rewriting rule shows."""
    inst.write("control/defaulthost", "hub.example.test\n")
    inst.write("control/defaultdomain", "corp.example\n")
    inst.write("control/plusdomain", "plus.example\n")
    inst.write("control/idhost", "ids.example.test\n")


def inject(inst, args, message, env=None, queue=None):
    e = {"USER": "alice"}
    if queue:
        e["QMAILQUEUE"] = queue
    e.update(env or {})
    return inst.run(["qmail-inject", *args], input=message, env=e)


def strip_added(msg, t0, t1, idhost=b"ids.example.test"):
    """Checks the Date and Message-ID fields qmail-inject added (at the top,
    well formed, the time of the run) and returns the message without them."""
    d = DATE_RE.match(msg)
    assert d, msg
    day, mon, year, hh, mm, ss = d.groups()
    t = calendar.timegm((int(year), MONTHS.index(mon.decode()) + 1, int(day), int(hh), int(mm),
                         int(ss)))
    assert int(t0) <= t <= t1 + 1, (t0, t, t1)
    rest = msg[d.end():]
    m = MSGID_RE.match(rest)
    assert m, rest
    assert m.group(1) == time.strftime("%Y%m%d%H%M%S", time.gmtime(t)).encode()
    assert m.group(3) == idhost
    return rest[m.end():]


def test_header_rewritten_and_envelope(instance):
    controls(instance)
    q = recorder(instance)
    message = (b"Subject: test\n"
               b"To: bob, carol@office, dave@home+,\n"
               b"\t\"Erin E.\" <erin@example.org> (friend)\n"
               b"Bcc: secret@x.example\n"
               b"Content-Length: 999\n"
               b"X-Kept:   as   it  is\n"
               b"\n"
               b"body line\n"
               b"Bcc: this is body, not header\n")
    t0 = time.time()
    r = inject(instance, [], message, queue=q,
               env={"QMAILUSER": "alice", "QMAILHOST": "mail.example.test",
                    "QMAILNAME": "Alice Example"})
    t1 = time.time()
    assert (r.returncode, r.stdout, r.stderr) == (0, b"", b"")
    msg, env = recorded(instance)
    assert strip_added(msg, t0, t1) == (
        b"From: \"Alice Example\" <alice@mail.example.test>\n"
        b"Subject: test\n"
        b"To: bob@hub.example.test, carol@office.corp.example, dave@home.plus.example,\n"
        b"  \"Erin E.\" <erin@example.org>(friend)\n"  # qmail: no space after >
        b"X-Kept:   as   it  is\n"
        b"\n"
        b"body line\n"
        b"Bcc: this is body, not header\n")
    assert env == (b"Falice@mail.example.test\0"
                   b"Tbob@hub.example.test\0Tcarol@office.corp.example\0"
                   b"Tdave@home.plus.example\0Terin@example.org\0Tsecret@x.example\0\0")


def test_from_and_cc_added(instance):
    controls(instance)
    q = recorder(instance)
    t0 = time.time()
    r = inject(instance, ["-a", "r@x.example"], b"Subject: s\n\nb\n", queue=q,
               env={"USER": "u1", "LOGNAME": "u2", "NAME": "Uno Due"})
    t1 = time.time()
    assert r.returncode == 0, r.stderr
    msg, env = recorded(instance)
    assert strip_added(msg, t0, t1) == (b"From: \"Uno Due\" <u1@hub.example.test>\n"
                                        b"Cc: recipient list not shown: ;\n"
                                        b"Subject: s\n\nb\n")
    assert env == b"Fu1@hub.example.test\0Tr@x.example\0\0"


def test_defaults_come_from_me(instance):
    # No defaulthost/idhost files: control/me is used (example.test).
    q = recorder(instance)
    t0 = time.time()
    r = inject(instance, [], b"To: bob\n\nhi\n", queue=q, env={"QMAILINJECT": "c",
                                                              "MAILNAME": "Al A"})
    t1 = time.time()
    assert r.returncode == 0, r.stderr
    msg, env = recorded(instance)
    assert strip_added(msg, t0, t1, idhost=b"example.test") == (
        b"From: alice@example.test (Al A)\nTo: bob@example.test\n\nhi\n")
    assert env == b"Falice@example.test\0Tbob@example.test\0\0"


def test_environment_overrides_controls(instance):
    controls(instance)
    q = recorder(instance)
    t0 = time.time()
    r = inject(instance, [], b"To: bob, c@dotless, d@p+\n\n", queue=q,
               env={"QMAILDEFAULTHOST": "envhost.example", "QMAILDEFAULTDOMAIN": "envdom",
                    "QMAILPLUSDOMAIN": "envplus.example", "QMAILIDHOST": "envid.example"})
    t1 = time.time()
    assert r.returncode == 0, r.stderr
    msg, env = recorded(instance)
    assert strip_added(msg, t0, t1, idhost=b"envid.example") == (
        b"From: alice@envhost.example\n"
        b"To: bob@envhost.example, c@dotless.envdom, d@p.envplus.example\n\n")


@pytest.mark.parametrize("args,want", [
    (["-a", "arg@x.example"], [b"arg@x.example"]),
    (["-A", "arg@x.example"], [b"arg@x.example"]),
    (["arg@x.example"], [b"arg@x.example"]),
    ([], [b"to@x.example", b"cc@x.example", b"bcc@x.example"]),
    (["-h", "arg@x.example"], [b"to@x.example", b"cc@x.example", b"bcc@x.example"]),
    (["-H", "arg@x.example"], [b"arg@x.example", b"to@x.example", b"cc@x.example",
                               b"bcc@x.example"]),
    (["-H"], [b"to@x.example", b"cc@x.example", b"bcc@x.example"]),
])
def test_recipient_selection(instance, args, want):
    q = recorder(instance)
    r = inject(instance, args,
               b"To: to@x.example\nCc: cc@x.example\nBcc: bcc@x.example\n\n", queue=q)
    assert r.returncode == 0, r.stderr
    _, env = recorded(instance)
    assert env == b"Falice@example.test\0" + b"".join(b"T" + w + b"\0" for w in want) + b"\0"


@pytest.mark.parametrize("args,env,header,sender", [
    ([], {}, b"", b"alice@example.test"),
    ([], {}, b"Return-Path: <rp@r.example>\n", b"rp@r.example"),
    ([], {}, b"Return-Path: <>\n", b""),
    (["-f", "fs@f.example"], {}, b"Return-Path: <rp@r.example>\n", b"fs@f.example"),
    (["-fbox"], {}, b"", b"box@example.test"),
    ([], {"QMAILINJECT": "s"}, b"Return-Path: <rp@r.example>\n", b"alice@example.test"),
    ([], {"QMAILSUSER": "owner", "QMAILSHOST": "lists.example"}, b"", b"owner@lists.example"),
    ([], {"QMAILINJECT": "r"}, b"", b"alice-@example.test-@[]"),
    ([], {"QMAILINJECT": "r", "QMAILSHOST": "l.example"}, b"", b"alice-@l.example-@[]"),
])
def test_sender_rules(instance, args, env, header, sender):
    q = recorder(instance)
    r = inject(instance, [*args, "t@x.example"], header + b"Subject: s\n\n", queue=q, env=env)
    assert r.returncode == 0, r.stderr
    msg, got = recorded(instance)
    assert got == b"F" + sender + b"\0Tt@x.example\0\0"
    assert b"Return-Path" not in msg


def test_per_message_verp(instance):
    q = recorder(instance)
    t0 = int(time.time())
    r = inject(instance, ["t@x.example"], b"\n", queue=q, env={"QMAILINJECT": "m"})
    t1 = int(time.time())
    assert r.returncode == 0, r.stderr
    _, env = recorded(instance)
    m = re.fullmatch(rb"Falice-(\d+)\.(\d+)@example\.test\0Tt@x\.example\0\0", env)
    assert m, env
    assert t0 <= int(m.group(1)) <= t1


def test_resent(instance):
    q = recorder(instance)
    t0 = time.time()
    r = inject(instance, [], b"Resent-To: new@x.example\nTo: old@x.example\n"
                             b"From: orig@x.example\nDate: 1 Jan 2000 00:00:00 -0000\n"
                             b"Message-ID: <old@x.example>\n\nbody\n", queue=q)
    t1 = time.time()
    assert r.returncode == 0, r.stderr
    msg, env = recorded(instance)
    assert env == b"Falice@example.test\0Tnew@x.example\0\0"
    assert msg.startswith(b"Resent-")
    plain = msg.replace(b"Resent-Date: ", b"Date: ", 1).replace(b"Resent-Message-ID: ",
                                                               b"Message-ID: ", 1)
    assert strip_added(plain, t0, t1, idhost=b"example.test") == (
        b"Resent-From: alice@example.test\n"
        b"Resent-To: new@x.example\nTo: old@x.example\nFrom: orig@x.example\n"
        b"Date: 1 Jan 2000 00:00:00 -0000\nMessage-ID: <old@x.example>\n\nbody\n")


def test_mail_followup_to(instance):
    q = recorder(instance)
    lists = os.path.join(instance.root, "lists")
    with open(lists, "w") as f:
        f.write("# my lists\nlist@l.example\n")
    os.chmod(lists, 0o644)
    r = inject(instance, [], b"To: list@l.example\nCc: me@m.example\n\n", queue=q,
               env={"QMAILMFTFILE": lists})
    assert r.returncode == 0, r.stderr
    msg, _ = recorded(instance)
    assert b"Mail-Followup-To: list@l.example,\n  me@m.example\n" in msg


def test_print_instead_of_queue(instance):
    q = recorder(instance)
    t0 = time.time()
    r = inject(instance, ["-n", "-f", "s@x.example", "r@x.example"],
               b"Subject: n\n\nbody without newline", queue=q)
    t1 = time.time()
    assert (r.returncode, r.stderr) == (0, b"")
    assert not was_run(instance)
    assert r.stdout.startswith(b"Return-Path: <s@x.example>\n")
    rest = r.stdout[len(b"Return-Path: <s@x.example>\n"):]
    assert strip_added(rest, t0, t1, idhost=b"example.test") == (
        b"From: alice@example.test\nCc: recipient list not shown: ;\n"
        b"Subject: n\n\nbody without newline\n")


def test_message_without_header(instance):
    q = recorder(instance)
    t0 = time.time()
    r = inject(instance, ["r@x.example"], b"no header here\nsecond\n", queue=q)
    t1 = time.time()
    assert r.returncode == 0, r.stderr
    msg, _ = recorded(instance)
    assert strip_added(msg, t0, t1, idhost=b"example.test") == (
        b"From: alice@example.test\nCc: recipient list not shown: ;\n\n"
        b"no header here\nsecond\n")


def test_no_recipients(instance):
    q = recorder(instance)
    r = inject(instance, [], b"Subject: nobody\n\nbody\n", queue=q)
    assert (r.returncode, r.stderr) == (100, b"qmail-inject: fatal: no recipients\n")
    assert not was_run(instance)


@pytest.mark.parametrize("code,fd6,want_exit,want_err", [
    (53, None, 111, b"qmail-inject: fatal: qq write error or disk full (#4.3.0)\n"),
    (11, None, 100, b"qmail-inject: fatal: envelope address too long for qq (#5.1.3)\n"),
    (82, "Dno thanks from the filter (#5.7.1)", 100,
     b"qmail-inject: fatal: no thanks from the filter (#5.7.1)\n"),
    (82, "Zlater, please (#4.3.0)", 111, b"qmail-inject: fatal: later, please (#4.3.0)\n"),
])
def test_queue_failures(instance, code, fd6, want_exit, want_err):
    q = recorder(instance, code=code, fd6=fd6)
    r = inject(instance, ["r@x.example"], b"Subject: s\n\nb\n", queue=q)
    assert (r.returncode, r.stderr) == (want_exit, want_err)
    assert was_run(instance)


def test_queue_program_missing(instance):
    r = inject(instance, ["r@x.example"], b"\n",
               queue=os.path.join(instance.root, "no-such-qmail-queue"))
    assert (r.returncode, r.stderr) == (111, b"qmail-inject: fatal: unable to exec qq (#4.3.0)\n")


def test_usage_and_syntax_errors(instance):
    q = recorder(instance)
    r = inject(instance, ["-x"], b"", queue=q)
    assert r.returncode == 100
    assert r.stderr.startswith(b"qmail-inject: usage: ")
    r = inject(instance, [], b"From: \"unterminated\nTo: t@x.example\n\n", queue=q)
    assert (r.returncode, r.stderr) == (
        100, b"qmail-inject: fatal: unable to parse this line:\nFrom: \"unterminated\n")
    r = inject(instance, [], b"To: @route:t@x.example\n\n", queue=q)
    assert r.returncode == 100
    assert not was_run(instance)
    r = inject(instance, ["--help"], b"")
    assert r.returncode == 0 and r.stdout.startswith(b"usage: qmail-inject")


def test_header_cap(instance):
    q = recorder(instance)
    big = b"X-Big: " + b"x" * (1 << 20) + b"\n\nbody\n"
    r = inject(instance, ["r@x.example"], big, queue=q)
    assert (r.returncode, r.stderr) == (
        100, b"qmail-inject: fatal: header too long (more than 1048576 bytes)\n")
    assert not was_run(instance)
    # A long first line that is no header field is a body: it goes through.
    body = b"y" * (2 << 20) + b"\nend\n"
    r = inject(instance, ["r@x.example"], body, queue=q)
    assert r.returncode == 0, r.stderr
    msg, _ = recorded(instance)
    assert msg.endswith(b"\n\n" + body)


def test_body_is_streamed(instance):
    """A body far bigger than qmail-inject's memory goes through unchanged."""
    q = recorder(instance)
    size = 64 << 20
    src = os.path.join(instance.root, "big.in")
    line = b"0123456789abcdef" * 7 + b"\n"
    with open(src, "wb") as f:
        f.write(b"To: r@x.example\n\n")
        chunk = line * (1 << 14)
        for _ in range(size // len(chunk)):
            f.write(chunk)
    os.chmod(src, 0o644)
    # Measured in a wrapper, so that the figure is qmail-inject's alone.
    code = ("import resource, subprocess, sys\n"
            "r = subprocess.run([sys.argv[1]], stdin=open(sys.argv[2], 'rb'))\n"
            "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    r = instance.run(["/usr/bin/python3", "-c", code,
                      os.path.join(instance.path, "bin", "qmail-inject"), src],
                     env={"USER": "alice", "QMAILQUEUE": q}, timeout=120)
    rc, maxrss_kib = map(int, r.stdout.split())
    assert rc == 0, r.stderr
    assert maxrss_kib < 48 * 1024, maxrss_kib
    msg, _ = recorded(instance)
    with open(src, "rb") as f:
        original = f.read()
    body = original[len(b"To: r@x.example\n\n"):]
    assert len(body) > 60 << 20 and msg.endswith(b"\n\n" + body)


def test_queued_for_real(instance):
    """Without $QMAILQUEUE the message lands in the instance's queue."""
    if not os.path.exists(os.path.join(instance.path, "bin", "qmail-queue")):
        pytest.skip("bin/qmail-queue not built")
    t0 = time.time()
    r = inject(instance, ["-f", "s@x.example", "r@y.example"], b"Subject: real\n\nbody\n")
    t1 = time.time()
    assert (r.returncode, r.stdout, r.stderr) == (0, b"", b"")
    q = os.path.join(instance.path, "queue")
    todo = os.listdir(os.path.join(q, "todo"))
    assert len(todo) == 1, todo
    n = int(todo[0])
    with open(os.path.join(q, "mess", str(n % SPLIT), str(n)), "rb") as f:
        mess = f.read()
    received, rest = mess.split(b"\n", 1)
    assert re.fullmatch(rb"Received: \(qmail \d+ invoked by uid %d\); .* -0000"
                        % instance.user.uid, received), received
    assert strip_added(rest, t0, t1, idhost=b"example.test") == (
        b"From: alice@example.test\nCc: recipient list not shown: ;\n"
        b"Subject: real\n\nbody\n")
    with open(os.path.join(q, "todo", todo[0]), "rb") as f:
        envelope = f.read()
    assert re.fullmatch(rb"u%d\0p\d+\0Fs@x\.example\0Tr@y\.example\0" % instance.user.uid,
                        envelope), envelope
