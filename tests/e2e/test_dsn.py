# test_dsn.py: bounces as RFC 3464 delivery status notifications
# (control/bounceformat dsn, the default). The real qmail-send with fake
# spawns (test_send.py's harness) fails recipients the way qmail-local and
# qmail-remote report it; the bounce it queues must parse with Python's
# email package as multipart/report with the right fields, and still as
# QSBMF. The last test takes the whole local path through qmailctl.
import email
import email.utils
import os
import re
import signal

from test_send import MESSAGE, msgnum, qpath, read, run_qq, sends, split  # noqa: F401

INTRO = (b"Hi. This is the qmail-send program at example.test.\n"
         b"I'm afraid I wasn't able to deliver your message to the following addresses.\n"
         b"This is a permanent error; I've given up. Sorry it didn't work out.\n\n")
DOUBLE_INTRO = (b"Hi. This is the qmail-send program at example.test.\n"
                b"I tried to deliver a bounce message to this address, but the bounce bounced!\n\n")


def queued_bounce(s, inst, n):
    """Waits for the bounce of message n; returns (its number, its bytes)."""
    i, _ = s.wait_log(rf"bounce msg {n} qp \d+")
    _, b = msgnum(s, i)
    s.wait_log(rf"info msg {b}: bytes \d+ from <(#@\[\])?> qp \d+ uid \d+")
    return b, read(qpath(inst, "mess", str(b % 23), str(b)))


def parts_raw(raw, boundary):
    """The bytes of each body part, split at the boundary as RFC 2046 says."""
    body = raw.split(b"\n\n", 1)[1]
    delim = b"\n--" + boundary + b"\n"
    close = b"\n--" + boundary + b"--\n"
    assert body.endswith(close), body[-200:]
    inner = body[:-len(close)]
    chunks = inner.split(delim)
    preamble, parts = chunks[0], chunks[1:]
    assert b"Hi. This is" not in preamble
    return [p.split(b"\n\n", 1) for p in parts]  # [header, content]


def qsbmf_parse(body):
    """A QSBMF reader: finds the intro, then reads paragraphs until the break
    paragraph; returns [(recipient, [lines])]."""
    start = body.index(b"Hi. This is the")
    paras = body[start:].split(b"\n\n")
    assert paras[0].startswith(b"Hi. This is the qmail-send program at ")
    out = []
    for p in paras[1:]:
        if p.startswith(b"-"):
            return out
        lines = p.split(b"\n")
        assert lines[0].startswith(b"<") and lines[0].endswith(b">:"), p
        out.append((lines[0][1:-2].decode(), [l.decode() for l in lines[1:]]))
    raise AssertionError("no break paragraph")


def check_lines(raw, upto):
    for line in raw[:upto].split(b"\n"):
        assert len(line) <= 998


def test_dsn_bounce_is_multipart_report(instance, sends):
    inst = instance
    run_qq(inst, MESSAGE, b"alice@far.test",
           [b"nobody@example.test", b"joe@example.test", b"bob@far.test"])
    s = sends(inst).ready()
    _, n = msgnum(s)
    original = read(qpath(inst, split("mess", n)))
    s.wait_log(rf"info msg {n}: .*")
    birth = int(os.stat(qpath(inst, split("info", n))).st_mtime)
    c1, c2 = s.lspawn.next(), s.lspawn.next()
    r1 = s.rspawn.next()
    s.lspawn.report(c1, b"D", b"Sorry, no mailbox here by that name. (#5.1.1)\n")
    s.settled(r"delivery \d+: failure: Sorry,_no_mailbox.*")
    s.rspawn.report(r1, b"D", b"192.0.2.7 does not like recipient.\n"
                              b"Remote host said: 550-5.1.1 <bob@far.test>: no such user\n"
                              b"550 5.1.1 try again never\n"
                              b"Giving up on 192.0.2.7.\n")
    s.settled(r"delivery \d+: failure: 192\.0\.2\.7_does_not_like_recipient.*")
    s.lspawn.report(c2, b"K", b"did 1+0+0\n")

    b, raw = queued_bounce(s, inst, n)
    cmd = s.rspawn.next()
    assert (cmd.sender, cmd.recip) == (b"", b"alice@far.test")
    assert raw.startswith(b"Received: (qmail ")
    assert b"\r" not in raw

    msg = email.message_from_bytes(raw)
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    assert msg["From"] == "MAILER-DAEMON@example.test"
    assert msg["To"] == "alice@far.test"
    assert msg["Subject"] == "failure notice"
    assert msg["MIME-Version"] == "1.0"
    assert msg["Auto-Submitted"] == "auto-replied"
    assert re.fullmatch(rf"<\d+\.\d+\.{n}\.qmail-send@example\.test>", msg["Message-ID"])
    assert email.utils.parsedate_to_datetime(msg["Date"]) is not None
    assert not msg.defects, msg.defects

    text, status, copy = msg.get_payload()
    # Part 1: the QSBMF text, byte for byte.
    assert text.get_content_type() == "text/plain"
    assert text.get_content_charset() == "us-ascii"
    paragraphs = (b"<nobody@example.test>:\n"
                  b"Sorry, no mailbox here by that name. (#5.1.1)\n\n"
                  b"<bob@far.test>:\n"
                  b"192.0.2.7 does not like recipient.\n"
                  b"Remote host said: 550-5.1.1 <bob@far.test>: no such user\n"
                  b"550 5.1.1 try again never\n"
                  b"Giving up on 192.0.2.7.\n\n")
    assert text.get_payload(decode=True) == \
        INTRO + paragraphs + b"--- Below this line is a copy of the message.\n"

    # Part 2: the delivery status.
    assert status.get_content_type() == "message/delivery-status"
    per_message, nobody, bob = status.get_payload()
    assert per_message["Reporting-MTA"] == "dns; example.test"
    arrival = email.utils.parsedate_to_datetime(per_message["Arrival-Date"])
    assert int(arrival.timestamp()) == birth
    assert nobody["Final-Recipient"] == "rfc822; nobody@example.test"
    assert nobody["Action"] == "failed"
    assert nobody["Status"] == "5.1.1"
    assert nobody["Remote-MTA"] is None
    assert nobody["Diagnostic-Code"] == "X-Qmail; Sorry, no mailbox here by that name. (#5.1.1)"
    assert bob["Final-Recipient"] == "rfc822; bob@far.test"
    assert bob["Action"] == "failed"
    assert bob["Status"] == "5.1.1"
    assert bob["Remote-MTA"] == "dns; 192.0.2.7"
    assert re.sub(r"\n ", " ", bob["Diagnostic-Code"]) == \
        "smtp; 550-5.1.1 <bob@far.test>: no such user 550 5.1.1 try again never"

    # Part 3: the message as it was queued.
    assert copy.get_content_type() == "message/rfc822"
    inner = copy.get_payload(0)
    assert inner["Subject"] == "hello"
    assert inner.get_payload() == "body line\n"
    boundary = msg.get_boundary().encode()
    raw_parts = parts_raw(raw, boundary)
    assert [h for h, _ in raw_parts] == [b"Content-Type: text/plain; charset=us-ascii",
                                         b"Content-Type: message/delivery-status",
                                         b"Content-Type: message/rfc822"]
    assert raw_parts[2][1] == original
    assert boundary not in original
    check_lines(raw, raw.index(b"Content-Type: message/rfc822"))

    # A QSBMF reader finds the same failures.
    assert qsbmf_parse(raw) == [
        ("nobody@example.test", ["Sorry, no mailbox here by that name. (#5.1.1)"]),
        ("bob@far.test", ["192.0.2.7 does not like recipient.",
                          "Remote host said: 550-5.1.1 <bob@far.test>: no such user",
                          "550 5.1.1 try again never",
                          "Giving up on 192.0.2.7."])]
    assert not os.path.exists(qpath(inst, "bounce", str(n)))


def test_dsn_queue_lifetime_is_4_4_7(instance, sends):
    inst = instance
    run_qq(inst, MESSAGE, b"a@far.test", [b"joe@example.test"])
    s = sends(inst).ready()
    _, n = msgnum(s)
    s.lspawn.report(s.lspawn.next(), b"Z", b"still busy\n")
    i, _ = s.wait_log(r"delivery 1: deferral: still_busy/")
    s.wait_log(r"status: local 0/10 remote 0/20", i)
    old = os.stat(qpath(inst, split("info", n))).st_mtime - 604800 - 3600
    os.utime(qpath(inst, split("info", n)), (old, old))
    s.signal(signal.SIGALRM)
    s.lspawn.report(s.lspawn.next(), b"Z", b"still busy")
    _, raw = queued_bounce(s, inst, n)
    s.rspawn.next()  # the bounce's delivery, answered at teardown
    _, status, _ = email.message_from_bytes(raw).get_payload()
    per_message, joe = status.get_payload()
    arrival = email.utils.parsedate_to_datetime(per_message["Arrival-Date"])
    assert int(arrival.timestamp()) == int(old)
    assert joe["Action"] == "failed"
    assert joe["Status"] == "4.4.7"
    assert re.sub(r"\n ", " ", joe["Diagnostic-Code"]) == (
        "X-Qmail; still busy I'm not going to try again; "
        "this message has been in the queue too long.")


def test_dsn_double_bounce(instance, sends):
    inst = instance
    inst.write("control/doublebounceto", "dbl\n")
    run_qq(inst, MESSAGE, b"", [b"nobody@example.test"])
    s = sends(inst).ready()
    _, n = msgnum(s)
    original = read(qpath(inst, split("mess", n)))
    s.lspawn.report(s.lspawn.next(), b"D", b"Mailbox full. (#4.2.2)\n")
    b, raw = queued_bounce(s, inst, n)
    c = s.lspawn.next()
    assert (c.sender, c.recip) == (b"#@[]", b"dbl@example.test")
    msg = email.message_from_bytes(raw)
    assert msg.get_content_type() == "multipart/report"
    assert msg["To"] == "dbl@example.test"
    text, status, copy = msg.get_payload()
    assert text.get_payload(decode=True) == (
        DOUBLE_INTRO + b"<nobody@example.test>:\nMailbox full. (#4.2.2)\n\n"
        b"--- Below this line is the original bounce.\n")
    _, rcpt = status.get_payload()
    assert rcpt["Final-Recipient"] == "rfc822; nobody@example.test"
    assert rcpt["Status"] == "5.2.2"  # qmail-send gave up: permanent
    assert parts_raw(raw, msg.get_boundary().encode())[2][1] == original

    # The double bounce fails too: discarded, whatever the format.
    s.lspawn.report(c, b"D", b"Sorry. (#5.1.1)\n")
    s.wait_log(rf"triple bounce: discarding bounce/{b}")


def test_dsn_boundary_avoids_the_message(instance, sends):
    # A message full of lines that look like MIME delimiters of other
    # bounces still comes back whole and parseable.
    inst = instance
    nasty = (b"Subject: tricky\n\n--=_qmail-send_\n--=_qmail-send_1\n"
             b"Content-Type: message/rfc822\n\n--\n")
    run_qq(inst, nasty, b"alice@far.test", [b"nobody@example.test"])
    s = sends(inst).ready()
    _, n = msgnum(s)
    original = read(qpath(inst, split("mess", n)))
    s.lspawn.report(s.lspawn.next(), b"D", b"No. (#5.1.1)\n--=_qmail-send_\n")
    _, raw = queued_bounce(s, inst, n)
    s.rspawn.next()  # the bounce's delivery, answered at teardown
    msg = email.message_from_bytes(raw)
    boundary = msg.get_boundary().encode()
    assert b"--" + boundary not in original
    assert len(boundary) <= 70
    parts = parts_raw(raw, boundary)
    assert len(parts) == 3
    assert parts[2][1] == original
    assert len(msg.get_payload()) == 3


def test_qsbmf_format_has_no_mime(instance, sends):
    inst = instance
    inst.write("control/bounceformat", "qsbmf\n")
    run_qq(inst, MESSAGE, b"alice@far.test", [b"nobody@example.test"])
    s = sends(inst).ready()
    _, n = msgnum(s)
    original = read(qpath(inst, split("mess", n)))
    s.lspawn.report(s.lspawn.next(), b"D", b"Sorry, no mailbox here by that name. (#5.1.1)\n")
    _, raw = queued_bounce(s, inst, n)
    s.rspawn.next()  # the bounce's delivery, answered at teardown
    head, body = raw.split(b"\n\n", 1)
    assert b"MIME-Version" not in head and b"Message-ID" not in head
    assert body == (INTRO + b"<nobody@example.test>:\n"
                    b"Sorry, no mailbox here by that name. (#5.1.1)\n\n"
                    b"--- Below this line is a copy of the message.\n\n"
                    b"Return-Path: <alice@far.test>\n" + original)


def test_dsn_from_a_real_local_failure(instance):
    # The whole path: qmail-inject, qmail-queue, qmail-send, qmail-lspawn,
    # qmail-local; the bounce lands in the sender's Maildir.
    inst = instance
    alice = inst.add_user("alice")
    inst.ctl("start")
    try:
        body = "Subject: lost\n\nwhere did it go\n"
        r = inst.run(["qmail-inject", "-falice@example.test", "nobody-here@example.test"],
                     input=body)
        assert r.returncode == 0, r.stderr
        new = os.path.join(alice, "Maildir", "new")
        name = inst.wait_for(lambda: os.listdir(new), what="the bounce in alice's Maildir")[0]
        with open(os.path.join(new, name), "rb") as f:
            raw = f.read()
    finally:
        inst.ctl("stop")
    msg = email.message_from_bytes(raw)
    assert msg["Return-Path"] == "<>"
    assert msg.get_content_type() == "multipart/report"
    assert msg["Subject"] == "failure notice"
    text, status, copy = msg.get_payload()
    assert text.get_payload(decode=True).startswith(INTRO)
    per_message, rcpt = status.get_payload()
    assert per_message["Reporting-MTA"] == "dns; example.test"
    assert rcpt["Final-Recipient"] == "rfc822; nobody-here@example.test"
    assert rcpt["Action"] == "failed"
    assert rcpt["Status"] == "5.1.1"
    assert rcpt["Diagnostic-Code"] == \
        "X-Qmail; Sorry, no mailbox here by that name. (#5.1.1)"
    inner = copy.get_payload(0)
    assert inner["Subject"] == "lost"
    assert inner.get_payload() == "where did it go\n"
    assert re.match(r"\(qmail \d+ invoked by uid \d+\)", inner["Received"])
    assert qsbmf_parse(raw) == [("nobody-here@example.test",
                                 ["Sorry, no mailbox here by that name. (#5.1.1)"])]
