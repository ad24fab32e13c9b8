# test_spawn.py: qmail-lspawn, qmail-rspawn, qmail-getpw and qmail-start on
# a real instance: the spawn protocol's bytes (2-byte banner and slots,
# K/Z/D reports), the Maildir bytes a delivery leaves, and the pipes
# qmail-start wires around qmail-send.
import os
import signal
import struct
import subprocess

import pytest

SPLIT = 23


def place_message(inst, n, data):
    """queue/mess/S/N as qmail-queue leaves it; returns the S/N path."""
    rel = f"{n % SPLIT}/{n}"
    inst.write(f"queue/mess/{rel}", data, 0o644)
    return rel


def command(slot, mess, sender, recip):
    return struct.pack(">H", slot) + b"\0".join(
        x.encode() for x in (mess, sender, recip)) + b"\0"


def parse_reports(data):
    """slot -> report bytes (letter + text), in order; asserts clean framing."""
    out = []
    while data:
        assert len(data) >= 3, data
        slot = struct.unpack(">H", data[:2])[0]
        end = data.index(b"\0", 2)
        out.append((slot, data[2:end]))
        data = data[end + 1:]
    return out


def run_spawn(inst, prog_args, commands, env=None, timeout=30):
    """Runs a spawn as the instance user with the commands on fd 0 then EOF.
    Returns (banner, [(slot, report)], returncode, stderr)."""
    r = inst.run(prog_args, input=b"".join(commands), env=env, timeout=timeout)
    return r.stdout[:2], parse_reports(r.stdout[2:]), r.returncode, r.stderr


def lspawn(inst, commands, defaultdelivery="./Maildir/"):
    banner, reports, code, err = run_spawn(inst, ["qmail-lspawn", defaultdelivery], commands)
    assert code == 0, err
    assert banner == b"\x03\xe8"  # kSpawnLimit = 1000, big-endian
    return dict(reports)


def cdb_hash(key):
    h = 5381
    for c in key:
        h = (((h << 5) + h) ^ c) & 0xFFFFFFFF
    return h


def write_cdb(path, records):
    """A cdb file (D. J. Bernstein's format), written independently of ours."""
    body = bytearray()
    pos = 2048
    tables = [[] for _ in range(256)]
    for k, v in records:
        h = cdb_hash(k)
        tables[h & 255].append((h, pos))
        rec = struct.pack("<II", len(k), len(v)) + k + v
        body += rec
        pos += len(rec)
    header, tail = bytearray(), bytearray()
    for t in tables:
        n = len(t) * 2
        header += struct.pack("<II", pos + len(tail), n)
        slots = [(0, 0)] * n
        for h, p in t:
            i = (h >> 8) % n
            while slots[i][1]:
                i = (i + 1) % n
            slots[i] = (h, p)
        for h, p in slots:
            tail += struct.pack("<II", h, p)
    with open(path, "wb") as f:
        f.write(bytes(header + body + tail))


MESSAGE = b"From: bob@remote.test\nSubject: spawn test\n\nhello through qmail-lspawn\n"


def test_lspawn_delivers_to_maildir(instance):
    inst = instance
    home = inst.add_user("alice")
    mess = place_message(inst, 4711, MESSAGE)
    reports = lspawn(inst, [command(777, mess, "bob@remote.test", "alice@example.test")])
    assert list(reports) == [777]
    report = reports[777]
    assert report.startswith(b"K"), report
    assert report == b"Kdid 1+0+0\n"  # one file (Maildir), no forwards, no programs
    msgs = inst.maildir_messages(home + "/Maildir")
    assert len(msgs) == 1, msgs
    (data,) = msgs.values()
    assert data == (b"Return-Path: <bob@remote.test>\n"
                    b"Delivered-To: alice@example.test\n" + MESSAGE)
    assert os.listdir(home + "/Maildir/tmp") == []
    # The message is delivered, not consumed: qmail-clean removes it later.
    assert inst.read(f"queue/mess/{mess}") == MESSAGE


def test_lspawn_many_slots_in_one_stream(instance):
    inst = instance
    home = inst.add_user("carol")
    mess = place_message(inst, 23 * 5 + 1, MESSAGE)
    cmds = [command(slot, mess, "bob@remote.test", "carol@example.test")
            for slot in (0, 255, 256, 999)]
    reports = lspawn(inst, cmds)
    assert sorted(reports) == [0, 255, 256, 999]
    assert all(r.startswith(b"K") for r in reports.values()), reports
    assert len(inst.maildir_messages(home + "/Maildir")) == 4


def test_lspawn_unknown_local_part_bounces(instance):
    inst = instance
    inst.add_user("alice")
    mess = place_message(inst, 100, MESSAGE)
    # Not in users/cdb, no such account: the alias user (the instance's
    # alias/ directory) gets it, and alias/ has no .qmail-nosuch or
    # .qmail-default: qmail-local's permanent failure.
    reports = lspawn(inst, [command(1, mess, "bob@remote.test", "nosuch@example.test")])
    assert reports[1] == b"DSorry, no mailbox here by that name. (#5.1.1)\n"
    assert inst.maildir_messages(os.path.join(inst.path, "alias", "Maildir")) == {}


def test_lspawn_empty_local_part_is_success_without_delivery(instance):
    inst = instance
    mess = place_message(inst, 101, MESSAGE)
    reports = lspawn(inst, [command(3, mess, "", "@example.test")])
    assert reports == {3: b"K"}


def test_lspawn_spawn_level_reports(instance):
    inst = instance
    mess = place_message(inst, 102, MESSAGE)
    reports = lspawn(inst, [
        command(1, "5/999999", "a@b", "alice@example.test"),   # no such file
        command(2, mess, "a@b", "no-host-part"),
        command(3, "x/1", "a@b", "alice@example.test"),
    ])
    assert reports[1] == b"Zqmail-spawn unable to open message. (#4.3.0)\n"
    assert reports[2] == b"DSorry, address must include host name. (#5.1.3)\n"
    assert reports[3] == b"DInternal error: messid has nonnumerics. (#5.3.5)\n"


def test_lspawn_other_uid_is_temporary(instance):
    inst = instance
    other = 65534 if inst.user.uid != 65534 else 65533
    home = os.path.join(inst.path, "home", "mallory")
    os.makedirs(home, exist_ok=True)
    # users/cdb as qmail-newu would write it: this instance's user may not
    # deliver as another uid, so the delivery is deferred, never made.
    write_cdb(os.path.join(inst.path, "users", "cdb"), [
        (b"", b""),
        (b"!mallory\0", f"mallory\0{other}\0{other}\0{home}\0\0".encode()),
        (b"!rooty\0", f"root\0{0}\0{0}\0{home}\0\0".encode()),
    ])
    inst.chown(os.path.join(inst.path, "users", "cdb"))
    mess = place_message(inst, 103, MESSAGE)
    reports = lspawn(inst, [command(1, mess, "a@b", "mallory@example.test"),
                            command(2, mess, "a@b", "rooty@example.test")])
    assert reports[1].startswith(b"Z"), reports
    assert b"unprivileged instance" in reports[1]
    assert reports[2] == b"ZNot allowed to perform deliveries as root.\n"


def test_lspawn_usage(instance):
    r = instance.run(["qmail-lspawn"])
    assert r.returncode == 100
    assert r.stdout == b""
    r = instance.run(["qmail-lspawn", "--help"])
    assert r.returncode == 0 and b"usage: qmail-lspawn" in r.stdout


def test_getpw_alias_fallback(instance):
    inst = instance
    r = inst.run(["qmail-getpw", "Nosuch-Thing"])
    assert r.returncode == 0, r.stderr
    u = inst.user
    assert r.stdout == (f"alias\0{u.uid}\0{u.gid}\0{inst.path}/alias\0-\0Nosuch-Thing\0"
                        .encode())
    # A local part like an option is still a local part.
    r = inst.run(["qmail-getpw", "--help"])
    assert r.returncode == 0
    assert r.stdout.startswith(b"alias\0") and r.stdout.endswith(b"\0-\0--help\0")
    assert inst.run(["qmail-getpw"]).returncode == 100


def test_rspawn_without_qmail_remote_defers(instance):
    inst = instance
    remote = os.path.join(inst.path, "bin", "qmail-remote")
    if os.path.exists(remote):
        os.unlink(remote)
    mess = place_message(inst, 200, MESSAGE)
    banner, reports, code, err = run_spawn(
        inst, ["qmail-rspawn"], [command(5, mess, "a@example.test", "bob@remote.test")])
    assert code == 0, err
    assert banner == b"\x03\xe8"
    assert reports == [(5, b"Zqmail-remote is missing or cannot run. (#4.3.0)\n")]


def test_rspawn_runs_qmail_remote_and_parses_its_output(instance):
    inst = instance
    fake = os.path.join(inst.root, "fake-remote")
    with open(fake, "w") as f:
        f.write("#!/bin/sh\n"
                "body=$(cat)\n"
                "printf 'r%s|%s|%s|%s\\n\\0' \"$1\" \"$2\" \"$3\" \"$(pwd)\"\n"
                "printf 'Kbody=%s\\n\\0' \"$body\"\n")
    os.chmod(fake, 0o755)
    mess = place_message(inst, 201, b"one line\n")
    tcpto = os.path.join(inst.path, "queue", "lock", "tcpto")
    inst.write("queue/lock/tcpto", b"\x01" * 1024, 0o644)
    banner, reports, code, err = run_spawn(
        inst, ["qmail-rspawn"], [command(9, mess, "a@example.test", "Bob@Remote.TEST")],
        env={"QMAILREMOTE": fake})
    assert code == 0, err
    mess_dir = os.path.join(inst.path, "queue", "mess")
    assert reports == [(9, f"KRemote.TEST|a@example.test|Bob@Remote.TEST|{mess_dir}\n"
                           "body=one line\n".encode())]
    with open(tcpto, "rb") as f:
        assert f.read() == b"\0" * 1024  # a restart forgets timed-out hosts


def proc_name(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return os.path.basename(f.read().split(b"\0")[0].decode())


def proc_state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return None


def proc_children(pid):
    kids = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid and fields[0] != "Z":
                    kids.append(int(p))
            except (FileNotFoundError, ProcessLookupError, IndexError):
                pass
    return kids


def fd_target(pid, fd):
    return os.readlink(f"/proc/{pid}/fd/{fd}")


def test_qmail_start_wiring_and_shutdown(instance, qng_bin):
    if not os.path.exists(os.path.join(qng_bin, "qmail-send")):
        pytest.skip("qmail-send is not built yet")
    inst = instance
    log = os.path.join(inst.root, "send.log")
    open(log, "wb").close()
    inst.chown(log)
    with open(os.devnull, "r+b") as null, \
            open(os.path.join(inst.root, "start.err"), "wb") as err:
        proc = inst.popen(["qmail-start", "./Maildir/", "/bin/sh", "-c", f"exec cat >> {log}"],
                          stdin=null, stdout=null, stderr=err, start_new_session=True)
    try:
        send = proc.pid
        want = {"qmail-lspawn", "qmail-rspawn", "qmail-clean", "cat"}

        def ready():
            try:
                if proc_name(send) != "qmail-send":
                    return None
                kids = {proc_name(k): k for k in proc_children(send)}
            except (FileNotFoundError, ProcessLookupError):
                return None
            return kids if want <= set(kids) else None

        kids = inst.wait_for(ready, timeout=30, what="qmail-send and its helpers")
        # qmail-send's fds 0..6 against the helpers' fds 0 and 1.
        pairs = [(0, "cat", 0), (1, "qmail-lspawn", 0), (2, "qmail-lspawn", 1),
                 (3, "qmail-rspawn", 0), (4, "qmail-rspawn", 1),
                 (5, "qmail-clean", 0), (6, "qmail-clean", 1)]
        for send_fd, helper, helper_fd in pairs:
            t = fd_target(send, send_fd)
            assert t.startswith("pipe:"), (send_fd, t)
            assert t == fd_target(kids[helper], helper_fd), (send_fd, helper)
        # No helper holds another pipe end: each end of file reaches its
        # reader when the writer goes.
        for name, pid in kids.items():
            extra = [fd for fd in (int(x) for x in os.listdir(f"/proc/{pid}/fd"))
                     if fd > 2 and fd_target(pid, fd).startswith("pipe:")]
            assert extra == [], (name, extra)
        for pid in [send, *kids.values()]:
            with open(f"/proc/{pid}/status") as f:
                uid = next(l for l in f if l.startswith("Uid:")).split()[1]
            assert int(uid) == inst.user.uid  # unprivileged: no uid changes

        # qmail-send logs through the logger once it runs; TERM before that
        # would only test the default signal action.
        def logged():
            with open(log, "rb") as f:
                return b"status:" in f.read()
        inst.wait_for(logged, timeout=30, what="qmail-send's first log line")

        os.kill(send, signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        everyone = list(kids.values())
        inst.wait_for(lambda: all(proc_state(p) in (None, "Z") for p in everyone),
                      timeout=30, what="the helpers to end after qmail-send")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_qmail_start_fails_outside_an_instance(tmp_path, qng_bin, test_user):
    # The program's own location names the instance: a copy outside one
    # finds none of its programs, starts nothing and prints only a reason.
    d = tmp_path / "x" / "bin"
    d.mkdir(parents=True)
    prog = d / "qmail-start"
    prog.write_bytes(open(os.path.join(qng_bin, "qmail-start"), "rb").read())
    prog.chmod(0o755)
    r = subprocess.run([str(prog)], capture_output=True, timeout=30, cwd="/")
    assert r.returncode == 111
    assert r.stdout == b""
    assert r.stderr.startswith(b"qmail-start: ") and r.stderr.count(b"\n") == 1, r.stderr
