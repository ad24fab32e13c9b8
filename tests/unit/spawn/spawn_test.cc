// spawn_test.cc: the spawn protocol's framing, output capping, and the
// spawn loop itself (run in a forked process with a stand-in program).
#include <filesystem>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fd.h"
#include "size.h"
#include "spawn.h"

namespace qng {
namespace {

using namespace std::string_literals;

// ---- framing ----

TEST(SpawnWire, Banner) {
  EXPECT_EQ(encode_spawn_banner(1000), "\x03\xe8"s);
  EXPECT_EQ(encode_spawn_banner(120), "\x00\x78"s);
  EXPECT_EQ(decode_spawn_banner(0x03, 0xe8), 1000u);
  EXPECT_EQ(decode_spawn_banner(0xff, 0xff), 65535u);
  EXPECT_EQ(kSpawnLimit, 1000u);
}

TEST(SpawnWire, CommandEncoding) {
  SpawnCommand c{258, "5/12345", "joe@a.example", "bob@b.example"};
  EXPECT_EQ(encode_spawn_command(c), "\x01\x02" "5/12345\0joe@a.example\0bob@b.example\0"s);
  SpawnCommand empty{0, "0/1", "", "x@y"};
  EXPECT_EQ(encode_spawn_command(empty), "\x00\x00" "0/1\0\0x@y\0"s);
}

TEST(SpawnWire, ReportEncoding) {
  EXPECT_EQ(encode_spawn_report(999, "Kdone\n"), "\x03\xe7Kdone\n\0"s);
  // A NUL inside the text would end the record early: the text stops there.
  EXPECT_EQ(encode_spawn_report(1, "Zab\0cd"s), "\x00\x01Zab\0"s);
  std::string huge = "D" + std::string(20000, 'x');
  std::string enc = encode_spawn_report(2, huge);
  EXPECT_EQ(enc.size(), 2 + kSpawnMaxReport + 1);
  EXPECT_EQ(enc.back(), '\0');
}

TEST(SpawnWire, CommandParserRoundTripAnySplit) {
  std::vector<SpawnCommand> want = {
      {0, "0/1", "", "a@b"},
      {999, "22/123456789", "s-x=y@verp.example", "prefix-user@dom.example"},
      {256, "3/3", "a@b", "@"},
  };
  std::string stream;
  for (const auto& c : want) stream += encode_spawn_command(c);
  // Every way of cutting the stream in two, and byte by byte.
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    SpawnCommandParser p;
    std::vector<SpawnCommand> got;
    ASSERT_TRUE(p.feed(std::string_view(stream).substr(0, cut), got).ok());
    ASSERT_TRUE(p.feed(std::string_view(stream).substr(cut), got).ok());
    ASSERT_EQ(got.size(), want.size()) << "cut " << cut;
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(got[i].slot, want[i].slot);
      EXPECT_EQ(got[i].message, want[i].message);
      EXPECT_EQ(got[i].sender, want[i].sender);
      EXPECT_EQ(got[i].recipient, want[i].recipient);
    }
    EXPECT_TRUE(p.at_boundary());
  }
  SpawnCommandParser p;
  std::vector<SpawnCommand> got;
  for (char c : stream) ASSERT_TRUE(p.feed(std::string_view(&c, 1), got).ok());
  EXPECT_EQ(got.size(), want.size());
}

TEST(SpawnWire, CommandParserRejectsBrokenStreams) {
  struct Case {
    const char* what;
    std::string bytes;
    unsigned limit;
    bool ok;
  };
  const std::string path100(100, '1');
  const std::string addr(kSpawnMaxAddress, 'a');
  const Case cases[] = {
      {"slot at limit", "\x03\xe8" "0/1\0a\0b@c\0"s, kSpawnLimit, false},
      {"slot 65535", "\xff\xff"s, kSpawnLimit, false},
      {"slot below a small limit", "\x00\x09" "0/1\0a\0b@c\0"s, 10, true},
      {"slot at a small limit", "\x00\x0a"s, 10, false},
      {"path at cap", "\x00\x01"s + path100 + "\0a\0b@c\0"s, kSpawnLimit, true},
      {"path past cap", "\x00\x01"s + path100 + "1"s, kSpawnLimit, false},
      {"sender at cap", "\x00\x01" "0/1\0"s + addr + "\0b@c\0"s, kSpawnLimit, true},
      {"sender past cap", "\x00\x01" "0/1\0"s + addr + "a"s, kSpawnLimit, false},
      {"recipient past cap", "\x00\x01" "0/1\0\0"s + addr + "a\0"s, kSpawnLimit, false},
  };
  for (const auto& c : cases) {
    SpawnCommandParser p(c.limit);
    std::vector<SpawnCommand> got;
    Status s = p.feed(c.bytes, got);
    EXPECT_EQ(s.ok(), c.ok) << c.what;
    if (!s.ok()) {
      EXPECT_EQ(s.error().code(), EPROTO) << c.what;
      EXPECT_TRUE(s.error().temporary()) << c.what;
    }
  }
}

TEST(SpawnWire, ReportParser) {
  std::string stream = encode_spawn_report(3, "Kok\n") + encode_spawn_report(700, "Zlater") +
                       encode_spawn_report(0, "");
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    SpawnReportParser p;
    std::vector<SpawnReport> got;
    ASSERT_TRUE(p.feed(std::string_view(stream).substr(0, cut), got).ok());
    ASSERT_TRUE(p.feed(std::string_view(stream).substr(cut), got).ok());
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0].slot, 3u);
    EXPECT_EQ(got[0].letter, 'K');
    EXPECT_EQ(got[0].text, "ok\n");
    EXPECT_EQ(got[1].slot, 700u);
    EXPECT_EQ(got[1].letter, 'Z');
    EXPECT_EQ(got[1].text, "later");
    EXPECT_EQ(got[2].letter, 0);  // mangled: the reader decides
  }
  SpawnReportParser p;
  std::vector<SpawnReport> got;
  EXPECT_FALSE(p.feed("\x00\x01"s + std::string(kSpawnMaxReport + 1, 'K'), got).ok());
  SpawnReportParser small(5);
  EXPECT_FALSE(small.feed("\x00\x05Kx\0"s, got).ok());
}

// ---- output capping ----

TEST(SpawnOutput, QmailTruncation) {
  struct Case {
    std::vector<std::string> pieces;
    std::string want;
  };
  const std::string note(kSpawnTooLong);
  const Case cases[] = {
      {{}, ""},
      {{"hello\n"}, "hello\n"},
      {{std::string(3000, 'a')}, std::string(3000, 'a')},
      {{std::string(3001, 'a')}, std::string(2966, 'a') + note},
      {{std::string(2000, 'a'), std::string(2000, 'b')},
       std::string(2000, 'a') + std::string(966, 'b') + note},
      {{"abc", "\0def"s}, "abc\0def"s},  // NULs are the report function's business
      {{std::string(10, 'a') + '\0' + std::string(5000, 'b')},
       std::string(10, 'a') + '\0' + std::string(2955, 'b') + note},
  };
  for (const auto& c : cases) {
    SpawnOutput out;
    for (const auto& p : c.pieces) out.append(p);
    EXPECT_EQ(out.text(), c.want);
  }
  EXPECT_EQ(note, "\nError report too long, sorry.\n");
  SpawnOutput plain(10, false);
  plain.append("0123456789abc");
  EXPECT_EQ(plain.text(), "0123456789");
  EXPECT_TRUE(plain.overflowed());
}

// ---- the loop, with a stand-in delivery program ----

class TempQueue {
 public:
  TempQueue() {
    char tmpl[] = "/tmp/qng-spawn-test-XXXXXX";
    char* d = ::mkdtemp(tmpl);
    EXPECT_NE(d, nullptr);
    dir_ = d ? d : "/tmp";
    ::mkdir((dir_ + "/0").c_str(), 0700);
    ::mkdir((dir_ + "/0/8").c_str(), 0700);  // a directory
    write("0/5", "Subject: test\n\nbody\n");
    EXPECT_EQ(::symlink("5", (dir_ + "/0/9").c_str()), 0);
  }
  ~TempQueue() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    if (ec) ADD_FAILURE() << "cleanup failed: " << ec.message();
  }
  void write(const std::string& rel, const std::string& data) {
    auto fd = open_write(dir_ + "/" + rel, 0600);
    ASSERT_TRUE(fd.ok());
    ASSERT_TRUE(write_all(fd->get(), data).ok());
  }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

// The stand-in's behaviour comes from the recipient's local part.
[[noreturn]] void stand_in(const std::string& local) {
  auto put = [](int fd, const std::string& s) { (void)!::write(fd, s.data(), s.size()); };
  auto arg = [&](const char* mode) { return local.substr(std::strlen(mode)); };
  if (local.rfind("echo-", 0) == 0) {
    put(1, arg("echo-"));
    ::_exit(0);
  }
  if (local.rfind("stderr-", 0) == 0) {
    put(2, arg("stderr-"));
    ::_exit(0);
  }
  if (local.rfind("exit-", 0) == 0) ::_exit(std::atoi(arg("exit-").c_str()));
  if (local.rfind("big-", 0) == 0) {
    put(1, std::string(static_cast<size_t>(std::atoi(arg("big-").c_str())), 'x'));
    ::_exit(0);
  }
  if (local == "nul") {
    put(1, "abc\0def"s);
    ::_exit(0);
  }
  if (local.rfind("sleep-", 0) == 0) {
    ::usleep(static_cast<useconds_t>(std::atoi(arg("sleep-").c_str())) * 1000);
    put(1, "woke");
    ::_exit(0);
  }
  if (local == "cat") {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(0, buf, sizeof buf)) > 0) put(1, std::string(buf, static_cast<size_t>(n)));
    ::_exit(0);
  }
  if (local == "crash") ::abort();
  if (local == "daemon") {
    // A grandchild keeps the output pipe open long after the child ended.
    pid_t g = ::fork();
    if (g == 0) {
      ::sleep(30);
      ::_exit(0);
    }
    put(1, std::to_string(g));
    ::_exit(0);
  }
  ::_exit(99);
}

SpawnProgram stand_in_program() {
  SpawnProgram p;
  p.start = [](const SpawnCommand& cmd, const Fd& message) {
    std::string local = cmd.recipient.substr(0, recipient_at(cmd.recipient));
    return fork_delivery(message, [local] { stand_in(local); }, 111);
  };
  // Shows NULs as '|': the report function must see all of the output
  // (qmail-remote's is NUL-terminated records).
  p.report = [](int wstat, std::string_view view) {
    std::string out(view);
    for (char& c : out)
      if (c == '\0') c = '|';
    if (!WIFEXITED(wstat)) return "Zcrashed:" + out;
    int code = WEXITSTATUS(wstat);
    if (code == 0) return "K" + out;
    return "Z" + std::to_string(code) + ":" + out;
  };
  return p;
}

struct LoopRun {
  std::string banner;
  std::vector<SpawnReport> reports;
  bool parsed = true;
  int wstat = 0;
};

// Runs run_spawn in a child with cwd `dir`, fd 0 = `input` then EOF.
LoopRun run_loop(const std::string& dir, const std::string& input, unsigned limit = kSpawnLimit) {
  LoopRun run;
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) == -1 || ::pipe2(out, O_CLOEXEC) == -1) {
    ADD_FAILURE() << "pipe";
    return run;
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    ::alarm(20);  // a hung loop fails the test instead of hanging it
    if (::chdir(dir.c_str()) == -1) ::_exit(120);
    if (::dup2(in[0], 0) == -1 || ::dup2(out[1], 1) == -1) ::_exit(121);
    // Without exec, O_CLOEXEC does not help: no copy of the test's pipe
    // ends may live on in the stand-in's children.
    for (int fd : {in[0], in[1], out[0], out[1]}) ::close(fd);
    SpawnProgram program = stand_in_program();
    Status s = run_spawn(program, limit);
    ::_exit(s.ok() ? 0 : 111);
  }
  ::close(in[0]);
  ::close(out[1]);
  // Inputs are small (below the pipe buffer): write, close, then read.
  EXPECT_TRUE(write_all(in[1], input).ok());
  ::close(in[1]);
  std::string bytes;
  char buf[65536];
  for (;;) {
    auto n = read_some(out[0], buf, sizeof buf);
    if (!n.ok() || *n == 0) break;
    bytes.append(buf, *n);
  }
  ::close(out[0]);
  ::waitpid(pid, &run.wstat, 0);
  run.banner = bytes.substr(0, 2);
  SpawnReportParser parser(limit);
  run.parsed = parser.feed(bytes.size() > 2 ? bytes.substr(2) : "", run.reports).ok() &&
               parser.at_boundary();
  return run;
}

std::string cmd(unsigned slot, const std::string& mess, const std::string& recip,
                const std::string& sender = "s@x") {
  return encode_spawn_command({slot, mess, sender, recip});
}

std::map<unsigned, std::string> by_slot(const LoopRun& run) {
  std::map<unsigned, std::string> m;
  for (const auto& r : run.reports) m[r.slot] = std::string(1, r.letter) + r.text;
  return m;
}

bool exited(int wstat, int code) { return WIFEXITED(wstat) && WEXITSTATUS(wstat) == code; }

TEST(SpawnLoop, DeliversAndReports) {
  TempQueue q;
  std::string input = cmd(0, "0/5", "echo-hello@x") + cmd(1, "0/5", "exit-100@x") +
                      cmd(2, "0/5", "stderr-oops@x") + cmd(3, "0/5", "cat@x") +
                      cmd(4, "0/5", "crash@x") + cmd(5, "0/5", "nul@x") +
                      cmd(6, "0/5", "big-5000@x") + cmd(999, "0/5", "echo-last@x");
  LoopRun run = run_loop(q.dir(), input);
  EXPECT_TRUE(exited(run.wstat, 0));
  EXPECT_EQ(run.banner, "\x03\xe8");
  ASSERT_TRUE(run.parsed);
  auto m = by_slot(run);
  ASSERT_EQ(m.size(), 8u);
  EXPECT_EQ(m[0], "Khello");
  EXPECT_EQ(m[1], "Z100:");
  EXPECT_EQ(m[2], "Koops");
  EXPECT_EQ(m[3], "KSubject: test\n\nbody\n");  // fd 0 is the message
  EXPECT_EQ(m[4], "Zcrashed:");
  EXPECT_EQ(m[5], "Kabc|def");
  EXPECT_EQ(m[6], "K" + std::string(2966, 'x') + std::string(kSpawnTooLong));
  EXPECT_EQ(m[999], "Klast");
}

TEST(SpawnLoop, ImmediateReports) {
  TempQueue q;
  std::string input = cmd(0, "0/x5", "echo-a@x") + cmd(1, "", "echo-a@x") +
                      cmd(2, "/0/5", "echo-a@x") + cmd(3, "0/5", "no-at-sign") +
                      cmd(4, "0/6", "echo-a@x") + cmd(5, "0/8", "echo-a@x") +
                      cmd(6, "0/9", "echo-a@x");
  LoopRun run = run_loop(q.dir(), input);
  EXPECT_TRUE(exited(run.wstat, 0));
  ASSERT_TRUE(run.parsed);
  auto m = by_slot(run);
  EXPECT_EQ(m[0], "DInternal error: messid has nonnumerics. (#5.3.5)\n");
  EXPECT_EQ(m[1], "DInternal error: messid too short. (#5.3.5)\n");
  EXPECT_EQ(m[2], "DInternal error: messid has nonnumerics. (#5.3.5)\n");
  EXPECT_EQ(m[3], "DSorry, address must include host name. (#5.1.3)\n");
  EXPECT_EQ(m[4], "Zqmail-spawn unable to open message. (#4.3.0)\n");
  EXPECT_EQ(m[5], "ZSorry, message has wrong type. (#4.3.5)\n");
  EXPECT_EQ(m[6], "Zqmail-spawn unable to open message. (#4.3.0)\n");  // no symlinks
}

TEST(SpawnLoop, WrongOwnerIsTemporary) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a file away";
  TempQueue q;
  q.write("0/7", "x\n");
  ASSERT_EQ(::chown((q.dir() + "/0/7").c_str(), 65534, 65534), 0);
  LoopRun run = run_loop(q.dir(), cmd(0, "0/7", "echo-a@x"));
  auto m = by_slot(run);
  EXPECT_EQ(m[0], "ZSorry, message has wrong owner. (#4.3.5)\n");
}

TEST(SpawnLoop, ManyConcurrentDeliveries) {
  TempQueue q;
  std::string input;
  const unsigned n = 300;  // more than qmail's 255-slot ceiling
  for (unsigned i = 0; i < n; ++i) input += cmd(i * 3, "0/5", "echo-" + std::to_string(i * 3) + "@x");
  LoopRun run = run_loop(q.dir(), input);
  EXPECT_TRUE(exited(run.wstat, 0));
  ASSERT_TRUE(run.parsed);
  auto m = by_slot(run);
  ASSERT_EQ(run.reports.size(), n);  // each exactly once
  for (unsigned i = 0; i < n; ++i) EXPECT_EQ(m[i * 3], "K" + std::to_string(i * 3));
}

TEST(SpawnLoop, WaitsForChildrenAfterEndOfInput) {
  TempQueue q;
  LoopRun run = run_loop(q.dir(), cmd(42, "0/5", "sleep-300@x"));
  EXPECT_TRUE(exited(run.wstat, 0));
  auto m = by_slot(run);
  EXPECT_EQ(m[42], "Kwoke");
}

TEST(SpawnLoop, GrandchildHoldingThePipeDoesNotBlockTheReport) {
  TempQueue q;
  // If the loop waited for end of file on the pipe, the grandchild's 30 s
  // would outlast the loop's 20 s alarm and the run would end by SIGALRM.
  LoopRun run = run_loop(q.dir(), cmd(1, "0/5", "daemon@x"));
  EXPECT_TRUE(exited(run.wstat, 0));
  auto m = by_slot(run);
  ASSERT_EQ(m.count(1), 1u);
  ASSERT_EQ(m[1][0], 'K');
  auto g = parse_decimal(std::string_view(m[1]).substr(1));
  ASSERT_TRUE(g.has_value());
  ::kill(static_cast<pid_t>(*g), SIGKILL);
}

TEST(SpawnLoop, ProtocolViolationsEndTheSpawn) {
  TempQueue q;
  // A slot in use: both commands arrive in one read, before any reaping.
  LoopRun busy = run_loop(q.dir(), cmd(5, "0/5", "sleep-200@x") + cmd(5, "0/5", "echo-b@x"));
  EXPECT_TRUE(exited(busy.wstat, 111));
  LoopRun range = run_loop(q.dir(), cmd(10, "0/5", "echo-a@x"), 10);
  EXPECT_TRUE(exited(range.wstat, 111));
  EXPECT_EQ(range.banner, "\x00\x0a"s);
  LoopRun longpath = run_loop(q.dir(), "\x00\x01"s + std::string(101, '1'));
  EXPECT_TRUE(exited(longpath.wstat, 111));
  // A partial command at end of input is dropped, as qmail does.
  LoopRun partial = run_loop(q.dir(), cmd(1, "0/5", "echo-a@x") + "\x00\x02" "0/5\0"s);
  EXPECT_TRUE(exited(partial.wstat, 0));
  EXPECT_EQ(by_slot(partial)[1], "Ka");
  EXPECT_EQ(partial.reports.size(), 1u);
}

}  // namespace
}  // namespace qng
