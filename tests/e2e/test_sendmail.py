# test_sendmail.py: the sendmail wrapper and its relatives (mailq,
# newaliases, datemail, predate, mailsubj, qmail-showctl) on a real
# instance, run as the instance's user. Messages go to a recording
# $QMAILQUEUE (see test_inject.py), so the bytes qmail-inject hands on are
# checked exactly.
import os
import re
import time

import pytest

from test_inject import recorded, recorder, strip_added, was_run

LOCAL_DATE_RE = re.compile(
    rb"^Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d "
    rb"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d [+-]\d{4}\n")
SPLIT = 23


def run(inst, args, message=b"", env=None, queue=None):
    e = {"USER": "alice"}
    if queue:
        e["QMAILQUEUE"] = queue
    e.update(env or {})
    return inst.run(args, input=message, env=e)


def link(inst, name, target="sendmail"):
    """NAME -> bin/TARGET, in the instance's temp root (sendmail looks at
    the name it was run as)."""
    path = os.path.join(inst.root, name)
    os.symlink(os.path.join(inst.path, "bin", target), path)
    return path


def test_t_takes_recipients_from_the_header(instance):
    q = recorder(instance)
    t0 = time.time()
    r = run(instance, ["sendmail", "-t", "-i"],
            b"To: bob@x.example\nCc: carol\nBcc: dave@y.example\nSubject: hi\n\nbody\n",
            queue=q)
    t1 = time.time()
    assert (r.returncode, r.stdout, r.stderr) == (0, b"", b"")
    msg, env = recorded(instance)
    assert env == (b"Falice@example.test\0Tbob@x.example\0Tcarol@example.test\0"
                   b"Tdave@y.example\0\0")
    assert strip_added(msg, t0, t1, idhost=b"example.test") == (
        b"From: alice@example.test\nTo: bob@x.example\nCc: carol@example.test\n"
        b"Subject: hi\n\nbody\n")


def test_arguments_are_the_recipients(instance):
    q = recorder(instance)
    r = run(instance, ["sendmail", "-oi", "-oem", "a@x.example", "b"],
            b"To: not-a-recipient@x.example\n\nbody\n", queue=q)
    assert r.returncode == 0, r.stderr
    _, env = recorded(instance)
    assert env == b"Falice@example.test\0Ta@x.example\0Tb@example.test\0\0"


def test_f_and_F_set_sender_and_from(instance):
    q = recorder(instance)
    r = run(instance, ["sendmail", "-f", "bounces@lists.example", "-F", "List Robot",
                       "r@x.example"], b"Subject: s\n\n",
            env={"NAME": "Not Me", "QMAILHOST": "wrong.example"}, queue=q)
    assert r.returncode == 0, r.stderr
    msg, env = recorded(instance)
    assert env == b"Fbounces@lists.example\0Tr@x.example\0\0"
    assert b"\nFrom: \"List Robot\" <bounces@lists.example>\n" in msg
    # -f alone: the sender's box and host make the From field.
    r = run(instance, ["sendmail", "-fbox@h.example", "r@x.example"], b"\n",
            env={"NAME": "Not Me"}, queue=q)
    assert r.returncode == 0, r.stderr
    msg, env = recorded(instance)
    assert env == b"Fbox@h.example\0Tr@x.example\0\0"
    assert b"\nFrom: box@h.example\n" in msg


def test_ignored_options(instance):
    q = recorder(instance)
    r = run(instance, ["sendmail", "-i", "-oi", "-odb", "-B", "8BITMIME", "-bm", "-m", "-v",
                       "-x", "-e", "q", "-p", "smtp:host", "--", "r@x.example"], b"\n", queue=q)
    assert r.returncode == 0, r.stderr
    _, env = recorded(instance)
    assert env == b"Falice@example.test\0Tr@x.example\0\0"


@pytest.mark.parametrize("args", [["-q"], ["-bd"], ["-N", "never", "r@x.example"], ["-f"]])
def test_unknown_option_is_usage(instance, args):
    q = recorder(instance)
    r = run(instance, ["sendmail", *args], b"\n", queue=q)
    assert r.returncode == 100
    assert r.stderr == (b"sendmail: usage: sendmail [ -t ] [ -fsender ] [ -Fname ] [ -bp ] "
                        b"[ -bs ] [ arg ... ]\n")
    assert not was_run(instance)


def test_no_recipients_passes_qmail_inject_exit(instance):
    q = recorder(instance)
    r = run(instance, ["sendmail"], b"Subject: nobody\n\n", queue=q)
    assert (r.returncode, r.stderr) == (100, b"qmail-inject: fatal: no recipients\n")


def fake_queued_message(inst, sender, recips):
    """A preprocessed message (mess, info, remote) written by hand, as
    qmail-send leaves it, so that qmail-qread has something to list."""
    q = os.path.join(inst.path, "queue")
    tmp = inst.write("queue/mess/0/tmp", b"Subject: queued\n\nbody\n", 0o644)
    n = os.stat(tmp).st_ino
    os.rename(tmp, os.path.join(q, "mess", str(n % SPLIT), str(n)))
    inst.write(f"queue/info/{n % SPLIT}/{n}", b"F" + sender + b"\0", 0o600)
    inst.write(f"queue/remote/{n % SPLIT}/{n}",
               b"".join(b"T" + r + b"\0" for r in recips), 0o600)
    return n


def test_bp_and_mailq_run_qmail_qread(instance):
    r = run(instance, ["sendmail", "-bp"])
    assert (r.returncode, r.stdout, r.stderr) == (0, b"", b"")
    n = fake_queued_message(instance, b"s@x.example", [b"r1@y.example", b"r2@z.example"])
    direct = run(instance, ["qmail-qread"])
    assert direct.returncode == 0, direct.stdout
    assert re.fullmatch(
        rb"\d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d GMT  #%d  22  <s@x\.example> \n"
        rb"\tremote\tr1@y\.example\n\tremote\tr2@z\.example\n" % n, direct.stdout), direct.stdout
    for args in (["sendmail", "-bp"], [link(instance, "mailq")]):
        r = run(instance, args)
        assert (r.returncode, r.stdout, r.stderr) == (0, direct.stdout, b""), args


def test_newaliases_is_refused(instance):
    r = run(instance, [link(instance, "newaliases")])
    assert (r.returncode, r.stderr) == (
        100, b"sendmail: fatal: please use fastforward/newaliases instead\n")


def test_bs_runs_qmail_smtpd(instance):
    smtpd = os.path.join(instance.path, "bin", "qmail-smtpd")
    r = run(instance, ["sendmail", "-bs"], b"QUIT\r\n")
    if not os.path.exists(smtpd):
        assert (r.returncode, r.stdout) == (111, b"")
        assert r.stderr == (b"sendmail: fatal: unable to run qmail-smtpd: "
                            b"No such file or directory\n")
        return
    assert r.returncode == 0, r.stderr
    lines = r.stdout.split(b"\r\n")
    assert lines[0].startswith(b"220 ") and lines[1].startswith(b"221 "), r.stdout


def test_help(instance):
    for prog in ("sendmail", "datemail", "predate", "mailsubj", "qmail-showctl"):
        r = run(instance, [prog, "--help"])
        assert r.returncode == 0 and r.stdout.startswith(b"usage: " + prog.encode()), prog


def test_datemail_adds_a_local_date(instance):
    q = recorder(instance)
    r = run(instance, ["datemail", "-t"], b"To: r@x.example\nSubject: dated\n\nbody\n",
            env={"TZ": "XYZ-3"}, queue=q)  # POSIX TZ (no tzdata needed): UTC+3
    assert r.returncode == 0, r.stderr
    msg, env = recorded(instance)
    assert env == b"Falice@example.test\0Tr@x.example\0\0"
    # qmail-inject writes the fields it adds first, then the message's own.
    assert re.fullmatch(rb"Message-ID: <[^>]+>\nFrom: alice@example.test\n(Date: [^\n]+\n)"
                        rb"To: r@x.example\nSubject: dated\n\nbody\n", msg), msg
    date = re.search(rb"^Date: .*\n", msg, re.M).group(0)
    assert LOCAL_DATE_RE.fullmatch(date), date
    assert date.endswith(b" +0300\n")


def test_predate(instance):
    r = run(instance, ["predate", "cat"], b"Subject: x\n\nbody\n", env={"TZ": "UTC"})
    assert r.returncode == 0, r.stderr
    d = LOCAL_DATE_RE.match(r.stdout)
    assert d and d.group(0).endswith(b" +0000\n"), r.stdout
    assert r.stdout[d.end():] == b"Subject: x\n\nbody\n"
    r = run(instance, ["predate", "sh", "-c", "cat >/dev/null; exit 7"], b"x\n")
    assert r.returncode == 7
    r = run(instance, ["predate", "/no/such/program"], b"x\n")
    assert (r.returncode, r.stderr) == (
        111, b"predate: fatal: unable to run /no/such/program: No such file or directory\n")
    r = run(instance, ["predate"])
    assert r.returncode == 100


def test_mailsubj(instance):
    q = recorder(instance)
    t0 = time.time()
    r = run(instance, ["mailsubj", "Weekly report", "a@x.example", "b"], b"all fine\n", queue=q)
    t1 = time.time()
    assert r.returncode == 0, r.stderr
    msg, env = recorded(instance)
    assert env == b"Falice@example.test\0Ta@x.example\0Tb@example.test\0\0"
    assert strip_added(msg, t0, t1, idhost=b"example.test") == (
        b"From: alice@example.test\nSubject: Weekly report\n"
        b"To: a@x.example, b@example.test\n\nall fine\n")
    # A line break in an argument cannot add a header field.
    r = run(instance, ["mailsubj", "hi\nBcc: evil@x.example", "a@x.example"], b"x\n", queue=q)
    assert r.returncode == 0, r.stderr
    msg, env = recorded(instance)
    assert env == b"Falice@example.test\0Ta@x.example\0\0"
    assert b"\nSubject: hi Bcc: evil@x.example\n" in msg
    r = run(instance, ["mailsubj", "only a subject"], b"x\n", queue=q)
    assert r.returncode == 100


def test_showctl(instance):
    instance.write("control/defaulthost", "hub.example.test\n")
    r = run(instance, ["qmail-showctl"])
    assert (r.returncode, r.stderr) == (0, b"")
    out = r.stdout.decode()
    assert out.startswith(f"qmail home directory: {instance.path}.\n")
    assert "\nsubdirectory split: 23.\n" in out
    assert "\nme: My name is example.test.\n" in out
    assert "\ndefaulthost: Default host name is hub.example.test.\n" in out
    assert "\nidhost: (Default.) Message-ID host name is example.test.\n" in out
    assert "\nconcurrencylocal: (Default.) Local concurrency is 10.\n" in out
    assert "I have no idea what this file does" not in out  # init makes only known files
