# test_stats.py: qmail-stats over a log that a real instance wrote (exact
# counts in the text report), and its HTML page rendered by headless
# Chromium (a real screenshot whose pixels show the charts).
import os
import re
import shutil
import struct
import subprocess
import tempfile
import zlib

import pytest

SAMPLE_LOG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unit", "stats",
                          "data", "sample.log")


def send_log(inst):
    p = os.path.join(inst.path, "log", "qmail-send", "current")
    if not os.path.exists(p):
        return ""
    with open(p, "rb") as f:
        return f.read().decode(errors="replace")


def inject(inst, args, body):
    r = inst.run(["qmail-inject", *args], input=body)
    assert r.returncode == 0, r.stderr.decode(errors="replace")


def value(report, key):
    """The value of a `  key: value` line of the text report."""
    m = re.search(r"^(?:  )?" + re.escape(key) + r":\s+(\S.*)$", report, re.M)
    assert m, f"no line {key!r} in the report:\n{report}"
    return m.group(1)


def table(report, title):
    """The rows of a table of the text report, as lists of cells split at
    runs of two or more spaces (the header row first)."""
    m = re.search(r"^" + re.escape(title) + r"\n  [^\n]*\n((?:  [^\n]*\n)*)", report, re.M)
    assert m, f"no table {title!r} in the report:\n{report}"
    return [re.split(r" {2,}", l.strip()) for l in m.group(1).splitlines()]


def test_counts_of_a_real_log(instance):
    inst = instance
    inst.add_user("alice")
    inst.add_user("bob")
    # A program that fails temporarily once, then lets the message through.
    prog_home = os.path.join(inst.path, "home", "prog")
    inst.add_user("prog", dotqmail=f"|test -e {prog_home}/tried && exit 0; "
                                   f"touch {prog_home}/tried; exit 111\n./Maildir/\n")
    inst.ctl("start")
    try:
        inject(inst, ["-falice@example.test", "bob@example.test"], "Subject: one\n\n1\n")
        inject(inst, ["-falice@example.test", "bob@example.test", "alice@example.test"],
               "Subject: two\n\n2\n")
        inject(inst, ["-falice@example.test", "nobody@example.test"], "Subject: lost\n\n3\n")
        inject(inst, ["-falice@example.test", "prog@example.test"], "Subject: prog\n\n4\n")
        inst.wait_for(lambda: ": deferral: " in send_log(inst), what="the program's deferral")
        inst.ctl("doqueue")
        # Four messages and the bounce of the lost one.
        inst.wait_for(lambda: send_log(inst).count("end msg ") == 5, what="5 end msg lines")
    finally:
        inst.ctl("stop")
    log = send_log(inst)
    assert "status: exiting" in log

    r = inst.run(["qmail-stats", "log/qmail-send/current"])
    assert r.returncode == 0, r.stderr
    report = r.stdout.decode()

    lines = log.count("\n")
    assert value(report, "Lines read") == \
        f"{lines} (TAI64N stamp {lines}, unix stamp 0, no stamp 0)"
    sizes = [int(b) for b in re.findall(r" info msg \d+: bytes (\d+) from ", log)]
    assert len(sizes) == 5
    expect = {
        "Messages queued (new msg)": "5",
        "Completed messages (end msg)": "5",
        "Bytes in completed messages": str(sum(sizes)),
        "Recipients for completed messages": "6",
        "Delivery attempts for completed messages": "7",
        "Bounces queued": "1",
        "Triple bounces discarded": "0",
        "Delivery attempts": "7",
        "Successes": "5",
        "Failures": "1",
        "Deferrals": "1",
        "Local attempts": "7",
        "Remote attempts": "0",
        "Successes with a known ddelay": "5",
        "Attempts with a known xdelay": "7",
        "Exits (status: exiting)": "1",
        "Restarts without status: exiting": "0",
    }
    for k, v in expect.items():
        assert value(report, k) == v, k
    assert re.fullmatch(r"\d+\.\d\d", value(report, "Median ddelay per success (s)"))
    assert table(report, "Deliveries by channel")[1:] == [
        ["success", "5", "5", "0"], ["failure", "1", "1", "0"],
        ["deferral", "1", "1", "0"], ["all", "7", "7", "0"]]
    fails = table(report, "Failures by reason")[1:]
    assert [(f[0], f[2]) for f in fails] == [
        ("1", "Sorry,_no_mailbox_here_by_that_name._(#5.1.1)")]
    assert [d[0] for d in table(report, "Deferrals by reason")[1:]] == ["1"]
    domains = table(report, "Recipient domains")[1:]
    assert [(d[0], d[1], d[2], d[3], d[6]) for d in domains] == [
        ("7", "5", "1", "1", "example.test")]
    recipients = {row[6]: row[:4] for row in table(report, "Recipients")[1:]}
    assert recipients == {"bob@example.test": ["2", "2", "0", "0"],
                          "alice@example.test": ["2", "2", "0", "0"],
                          "prog@example.test": ["2", "1", "0", "1"],
                          "nobody@example.test": ["1", "0", "1", "0"]}
    (bounce,) = [int(b) for b in re.findall(r" info msg \d+: bytes (\d+) from <> ", log)]
    senders = {row[8]: row[:4] for row in table(report, "Senders")[1:]}
    assert senders == {"alice@example.test": ["4", str(sum(sizes) - bounce), "5", "6"],
                       "<>": ["1", str(bounce), "1", "1"]}
    assert report.endswith("\nNotes\n  (none)\n"), report


def png_pixels(data):
    """Decodes an 8-bit RGB or RGBA, non-interlaced PNG with zlib: (width,
    height, bytes per pixel, rows of raw pixel bytes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, ihdr = 8, [], None
    while pos < len(data):
        n, = struct.unpack(">I", data[pos:pos + 4])
        typ, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if typ == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif typ == b"IDAT":
            idat.append(body)
        elif typ == b"IEND":
            break
    w, h, depth, ctype, _, _, interlace = ihdr
    assert depth == 8 and ctype in (2, 6) and interlace == 0, ihdr
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = w * bpp
    assert len(raw) == h * (stride + 1)
    prev, rows = bytearray(stride), []
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif f == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif f == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif f == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        else:
            assert f == 0, f"bad filter {f}"
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def chromium(*args, tmp):
    exe = shutil.which("chromium")
    # make deps installs it: a missing browser is a failure, not a skip.
    assert exe, "chromium is not installed (scripts/deps.sh installs it)"
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--disable-extensions", f"--user-data-dir={tmp}/profile", *args]
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "HOME": tmp, "LANG": "C"})


def test_html_report_renders(qng_bin):
    tmp = tempfile.mkdtemp(prefix="qng-stats-")
    try:
        r = subprocess.run([os.path.join(qng_bin, "qmail-stats"), "--html", SAMPLE_LOG],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        assert r.returncode == 0, r.stderr
        html = r.stdout
        assert html.startswith(b"<!DOCTYPE html>") and html.endswith(b"</html>\n")
        # Self-contained: no script, no external reference of any kind.
        for bad in (b"<script", b"http:", b"https:", b"src=", b"href=", b"@import", b"url("):
            assert bad not in html, bad
        page = os.path.join(tmp, "report.html")
        with open(page, "wb") as f:
            f.write(html)

        dom = chromium("--dump-dom", "file://" + page, tmp=tmp)
        assert dom.returncode == 0, dom.stderr[-2000:]
        assert dom.stdout.count(b"<svg") == 4
        # 6 bar segments + 3 legend keys, 4 histogram bars, 2 + 2 reason bars.
        assert dom.stdout.count(b"<rect") == 17
        assert b"Sorry,_no_mailbox_here_by_that_name._(#5.1.1)" in dom.stdout

        png = os.path.join(tmp, "report.png")
        shot = chromium(f"--screenshot={png}", "--window-size=1200,2000", "file://" + page, tmp=tmp)
        assert shot.returncode == 0, shot.stderr[-2000:]
        with open(png, "rb") as f:
            w, h, bpp, rows = png_pixels(f.read())
        assert (w, h) == (1200, 2000)
        counts = {}
        for row in rows:
            for i in range(0, len(row), bpp):
                px = row[i:i + 3]
                counts[px] = counts.get(px, 0) + 1
        assert len(counts) > 50, "the page looks blank"
        # The charts' fills: success, deferral, failure bars and the delay
        # histogram, each a solid area of many pixels.
        for name, rgb in (("success", (0x2e, 0x7d, 0x32)), ("deferral", (0xf9, 0xa8, 0x25)),
                          ("failure", (0xc6, 0x28, 0x28)), ("histogram", (0x15, 0x65, 0xc0))):
            n = sum(c for px, c in counts.items()
                    if all(abs(px[k] - rgb[k]) <= 3 for k in range(3)))
            assert n > 500, f"{name} bars not drawn ({n} pixels)"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
