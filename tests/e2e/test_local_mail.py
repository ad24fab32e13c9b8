# test_local_mail.py: the whole local path on a running instance:
# qmail-inject -> qmail-queue -> qmail-send -> qmail-lspawn -> qmail-local,
# started and stopped by qmailctl, checked by the bytes in the mailboxes.
import os
import re
import signal
import time

import pytest


def new_messages(maildir):
    d = os.path.join(maildir, "new")
    out = []
    for n in sorted(os.listdir(d)):
        with open(os.path.join(d, n), "rb") as f:
            out.append(f.read())
    return out


def wait_messages(inst, maildir, count, timeout=60):
    return inst.wait_for(lambda: (lambda m: m if len(m) >= count else None)(new_messages(maildir)),
                         timeout=timeout, what=f"{count} message(s) in {maildir}")


def inject(inst, args, body, env=None):
    r = inst.run(["qmail-inject", *args], input=body, env=env)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return r


def send_log(inst):
    p = os.path.join(inst.path, "log", "qmail-send", "current")
    if not os.path.exists(p):
        return ""
    with open(p, "rb") as f:
        return f.read().decode(errors="replace")


@pytest.fixture
def running(instance):
    alice = instance.add_user("alice")
    instance.ctl("start")
    yield instance, alice
    instance.ctl("stop")


def test_inject_reaches_maildir(running):
    inst, alice = running
    inject(inst, ["alice@example.test"], "Subject: hi\n\nhello there\n")
    (msg,) = wait_messages(inst, alice + "/Maildir", 1)
    head, _, body = msg.partition(b"\n\n")
    lines = head.split(b"\n")
    assert lines[0] == b"Return-Path: <anonymous@example.test>"
    assert lines[1] == b"Delivered-To: alice@example.test"
    assert re.fullmatch(rb"Received: \(qmail \d+ invoked by uid \d+\); "
                        rb"\d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d -0000", lines[2])
    assert b"Subject: hi" in lines
    assert any(l.startswith(b"Message-ID: <") for l in lines)
    assert any(l.startswith(b"Date: ") for l in lines)
    assert body == b"hello there\n"
    # Delivered once: nothing left in the queue, tmp/ empty.
    assert os.listdir(alice + "/Maildir/tmp") == []
    inst.wait_for(lambda: "end msg" in send_log(inst), what="end msg in the log")
    # qmail-clean removes the mess file just after "end msg" is logged.
    stat = inst.wait_for(lambda: (lambda s: s if re.search(r"messages in queue: 0\b", s) else None)(
        inst.ctl("stat").stdout.decode()), what="an empty queue")
    assert "qmail-send: up" in stat


def test_unknown_user_bounces_in_qsbmf(instance):
    inst = instance
    alice = inst.add_user("alice")
    inst.write("control/bounceformat", "qsbmf\n")
    inst.ctl("start")
    inject(inst, ["-falice@example.test", "nobody-here@example.test"],
           "Subject: lost\n\nwhere did it go\n")
    (bounce,) = wait_messages(inst, alice + "/Maildir", 1)
    text = bounce.decode()
    assert "\nReturn-Path: <>\n" in "\n" + text
    assert "From: MAILER-DAEMON@example.test\n" in text
    assert "Subject: failure notice\n" in text
    assert "Hi. This is the qmail-send program at example.test.\n" in text
    assert ("<nobody-here@example.test>:\n"
            "Sorry, no mailbox here by that name. (#5.1.1)\n") in text
    assert "--- Below this line is a copy of the message.\n" in text
    assert text.rstrip().endswith("where did it go")


def test_dot_qmail_forward_mbox_program_and_wildcard(running):
    inst, alice = running
    inst.add_user("carol", dotqmail="&alice@example.test\n")
    erin = inst.add_user("erin", dotqmail="./mbox\n")
    inst.write("home/alice/.qmail-default",
               '|echo "$DEFAULT $EXT $RECIPIENT" >> defaults.txt\n./Maildir/\n', 0o600)
    inst.ctl("reload")
    inject(inst, ["carol@example.test"], "Subject: fwd\n\nvia carol\n")
    inject(inst, ["erin@example.test"], "Subject: box\n\nFrom the mbox\n")
    inject(inst, ["alice-Lists-Foo@example.test"], "Subject: ext\n\nwildcard\n")
    msgs = wait_messages(inst, alice + "/Maildir", 2)
    fwd = [m for m in msgs if b"via carol" in m][0]
    assert b"Delivered-To: carol@example.test\n" in fwd
    assert b"Delivered-To: alice@example.test\n" in fwd
    ext = [m for m in msgs if b"wildcard" in m][0]
    assert ext.startswith(b"Return-Path: <anonymous@example.test>\n"
                          b"Delivered-To: alice-Lists-Foo@example.test\n")
    got = inst.wait_for(lambda: os.path.exists(alice + "/defaults.txt") and
                        open(alice + "/defaults.txt").read(), what="program delivery")
    assert got == "Lists-Foo Lists-Foo alice-Lists-Foo@example.test\n"
    mbox = inst.wait_for(lambda: os.path.exists(erin + "/mbox") and
                         open(erin + "/mbox", "rb").read(), what="mbox delivery")
    assert re.match(rb"From anonymous@example.test [A-Z][a-z]{2} [A-Z][a-z]{2} \d\d "
                    rb"\d\d:\d\d:\d\d \d{4}\n", mbox)
    assert b"\n>From the mbox\n\n" in mbox


def test_loop_is_bounced(running):
    inst, alice = running
    inst.add_user("dave", dotqmail="&dave@example.test\n")
    inject(inst, ["-falice@example.test", "dave@example.test"], "Subject: loop\n\nround\n")
    (bounce,) = wait_messages(inst, alice + "/Maildir", 1)
    assert (b"<dave@example.test>:\nThis message is looping: "
            b"it already has my Delivered-To line. (#5.4.6)\n") in bounce


def test_program_exit_111_is_retried(running):
    inst, alice = running
    bob = inst.add_user("bob", dotqmail=(
        "|if [ -e tried ]; then cat > got.txt; else touch tried; exit 111; fi\n"))
    inject(inst, ["bob@example.test"], "Subject: later\n\nsecond time lucky\n")
    inst.wait_for(lambda: "deferral" in send_log(inst), what="a deferral")
    assert not os.path.exists(bob + "/got.txt")
    inst.ctl("doqueue")
    got = inst.wait_for(lambda: os.path.exists(bob + "/got.txt") and
                        open(bob + "/got.txt", "rb").read(), what="the retry")
    assert got.endswith(b"second time lucky\n")
    # The report reaches the log once qmail-local has exited.
    log = inst.wait_for(lambda: (lambda l: l if re.search(r"delivery \d+: success: ", l) else None)(
        send_log(inst)), what="the success line")
    assert re.search(r"delivery \d+: deferral: ", log)


def test_kill_9_of_qmail_send_loses_nothing(instance):
    inst = instance
    alice = inst.add_user("alice")
    inst.write("control/concurrencylocal", "5\n")
    n = 500
    for i in range(n):
        r = inst.run(["qmail-inject", "alice@example.test"], input=f"Subject: m{i}\n\n{i}\n")
        assert r.returncode == 0, r.stderr
    inst.ctl("start")
    pid = int(open(os.path.join(inst.path, "supervise", "qmail-send.pid")).read())
    # Kill it in the middle of the deliveries.
    inst.wait_for(lambda: len(os.listdir(alice + "/Maildir/new")) >= 50, what="50 deliveries")
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)
    assert len(os.listdir(alice + "/Maildir/new")) < n, "killed too late to prove anything"
    inst.ctl("start")
    seen = set()

    def all_there():
        seen.clear()
        for m in new_messages(alice + "/Maildir"):
            s = re.search(rb"\nSubject: m(\d+)\n", m)
            if s:
                seen.add(int(s.group(1)))
        return len(seen) == n

    inst.wait_for(all_there, timeout=180, what="every message delivered")
    q = os.path.join(inst.path, "queue")

    def work_left():
        left = [d for d in ("todo", "intd", "bounce") if os.listdir(os.path.join(q, d))]
        left += [f"{d}/{s}" for d in ("info", "local", "remote") for s in range(23)
                 if os.listdir(os.path.join(q, d, str(s)))]
        return left

    inst.wait_for(lambda: not work_left(), timeout=120, what="the queue to finish")
    inst.ctl("stop")
    assert work_left() == []
    # A kill between "unlink info" and qmail-clean's removal of mess leaves
    # the mess file alone: qmail's state S2, collected once it is 36 h old
    # (INTERNALS). At most the deliveries in flight at the kill can do that.
    orphans = [n for s in range(23) for n in os.listdir(os.path.join(q, "mess", str(s)))]
    assert len(orphans) <= 5, orphans
