// spawn.cc: the spawn protocol's wire format and qmail's spawn loop, with
// epoll over the delivery pipes and a signalfd for SIGCHLD (no select: a
// spawn may have kSpawnLimit children).
#include "spawn.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <unordered_map>

#include "size.h"

namespace qng {

// ---- wire format ----

std::string encode_spawn_banner(unsigned limit) {
  std::string s;
  s += static_cast<char>((limit >> 8) & 0xff);
  s += static_cast<char>(limit & 0xff);
  return s;
}

unsigned decode_spawn_banner(unsigned char hi, unsigned char lo) {
  return (static_cast<unsigned>(hi) << 8) | lo;
}

std::string encode_spawn_command(const SpawnCommand& cmd) {
  std::string s = encode_spawn_banner(cmd.slot);
  s += cmd.message;
  s += '\0';
  s += cmd.sender;
  s += '\0';
  s += cmd.recipient;
  s += '\0';
  return s;
}

std::string encode_spawn_report(unsigned slot, std::string_view report) {
  report = report.substr(0, report.find('\0'));
  if (report.size() > kSpawnMaxReport) report = report.substr(0, kSpawnMaxReport);
  std::string s = encode_spawn_banner(slot);
  s += report;
  s += '\0';
  return s;
}

Status SpawnCommandParser::feed(std::string_view in, std::vector<SpawnCommand>& out) {
  while (!in.empty()) {
    if (stage_ < 2) {
      unsigned c = static_cast<unsigned char>(in[0]);
      in.remove_prefix(1);
      if (stage_ == 0) {
        cur_ = SpawnCommand{};
        cur_.slot = c << 8;
        stage_ = 1;
        continue;
      }
      cur_.slot |= c;
      if (cur_.slot >= limit_) return Error::temp("spawn command slot out of range", EPROTO);
      stage_ = 2;
      continue;
    }
    std::string& field = stage_ == 2 ? cur_.message : stage_ == 3 ? cur_.sender : cur_.recipient;
    size_t cap = stage_ == 2 ? kSpawnMaxMessage : kSpawnMaxAddress;
    size_t nul = in.find('\0');
    std::string_view part = in.substr(0, nul);
    if (!fits(field.size(), part.size(), cap))
      return Error::temp("spawn command field too long", EPROTO);
    field.append(part);
    if (nul == std::string_view::npos) return {};
    in.remove_prefix(nul + 1);
    if (++stage_ == 5) {
      out.push_back(std::move(cur_));
      cur_ = SpawnCommand{};
      stage_ = 0;
    }
  }
  return {};
}

Status SpawnReportParser::feed(std::string_view in, std::vector<SpawnReport>& out) {
  while (!in.empty()) {
    if (stage_ < 2) {
      unsigned c = static_cast<unsigned char>(in[0]);
      in.remove_prefix(1);
      if (stage_ == 0) {
        slot_ = c << 8;
        stage_ = 1;
        continue;
      }
      slot_ |= c;
      if (slot_ >= limit_) return Error::temp("spawn report slot out of range", EPROTO);
      body_.clear();
      stage_ = 2;
      continue;
    }
    size_t nul = in.find('\0');
    std::string_view part = in.substr(0, nul);
    if (!fits(body_.size(), part.size(), kSpawnMaxReport))
      return Error::temp("spawn report too long", EPROTO);
    body_.append(part);
    if (nul == std::string_view::npos) return {};
    in.remove_prefix(nul + 1);
    SpawnReport r;
    r.slot = slot_;
    if (!body_.empty()) {
      r.letter = body_[0];
      r.text = body_.substr(1);
    }
    out.push_back(std::move(r));
    stage_ = 0;
  }
  return {};
}

void SpawnOutput::append(std::string_view bytes) {
  size_t room = data_.size() < cap_ ? cap_ - data_.size() : 0;
  if (bytes.size() > room) {
    overflowed_ = true;
    bytes = bytes.substr(0, room);
  }
  data_.append(bytes);
}

std::string SpawnOutput::text() const {
  std::string s = data_;
  // qmail: output.len = truncreport - str_len(truncmess) - 3, then the note.
  constexpr size_t kCut = kSpawnTooLong.size() + 3;
  if (overflowed_ && note_) {
    s.resize(cap_ > kCut ? cap_ - kCut : 0);
    s += kSpawnTooLong;
  }
  return s;
}

size_t recipient_at(const std::string& recipient) { return recipient.rfind('@'); }

// ---- the spawn loop ----

namespace {

constexpr size_t kChunk = 4096;
// After its child is reaped, a pipe is drained without waiting: the child's
// own writes are all in it. A grandchild that keeps writing is cut off here.
constexpr size_t kDrainMax = size_t{1} << 20;

// What fork_delivery undoes in the child.
sigset_t g_child_mask;
bool g_restore_nofile = false;
struct rlimit g_child_nofile;

constexpr uint64_t kTagInput = 0;
constexpr uint64_t kTagSignal = 1;
constexpr uint64_t kTagFirstSlot = 2;

struct Delivery {
  bool used = false;
  pid_t pid = -1;
  int wstat = 0;
  Fd out;
  SpawnOutput output;
};

// qmail's docmd checks that need no system call; "" when the command is fine.
const char* check_command(const SpawnCommand& cmd) {
  if (cmd.message.empty()) return "DInternal error: messid too short. (#5.3.5)\n";
  for (size_t i = 0; i < cmd.message.size(); ++i) {
    char c = cmd.message[i];
    if (c == '/' && i > 0) continue;
    if (c < '0' || c > '9') return "DInternal error: messid has nonnumerics. (#5.3.5)\n";
  }
  if (cmd.recipient.find('@') == std::string::npos)
    return "DSorry, address must include host name. (#5.1.3)\n";
  return "";
}

// Raises the soft descriptor limit so that `limit` children fit; the child
// gets the old limit back.
void raise_nofile(unsigned limit) {
  struct rlimit rl;
  if (::getrlimit(RLIMIT_NOFILE, &rl) == -1) return;
  rlim_t want = static_cast<rlim_t>(limit) + 64;
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
    g_child_nofile = rl;
    struct rlimit more = rl;
    more.rlim_cur = (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want) ? want : rl.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &more) == 0) g_restore_nofile = true;
  }
}

class Spawner {
 public:
  Spawner(const SpawnProgram& program, unsigned limit, uid_t owner)
      : program_(program), limit_(limit), owner_(owner), parser_(limit), table_(limit) {}

  Status run();

 private:
  Status setup();
  Status read_input();
  Status handle(const SpawnCommand& cmd);
  void read_output(unsigned slot);
  void reap();
  void finish(unsigned slot);
  void send(unsigned slot, std::string_view report);
  Status watch(int fd, uint64_t tag);

  const SpawnProgram& program_;
  unsigned limit_;
  uid_t owner_;
  SpawnCommandParser parser_;
  std::vector<Delivery> table_;
  std::unordered_map<pid_t, unsigned> slot_of_;
  std::vector<unsigned> reaped_;
  unsigned active_ = 0;
  bool reading_ = true;
  bool input_plain_ = false;  // fd 0 cannot be polled (a file): always ready
  bool writing_ = true;
  Fd epoll_;
  Fd signals_;
};

Status Spawner::watch(int fd, uint64_t tag) {
  struct epoll_event ev;
  std::memset(&ev, 0, sizeof ev);
  ev.events = EPOLLIN;
  ev.data.u64 = tag;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) == -1)
    return Error::last("unable to watch descriptor");
  return {};
}

Status Spawner::setup() {
  if (::signal(SIGPIPE, SIG_IGN) == SIG_ERR) return Error::last("unable to ignore SIGPIPE");
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  if (::sigprocmask(SIG_BLOCK, &chld, &g_child_mask) == -1)
    return Error::last("unable to block SIGCHLD");
  int sfd = ::signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sfd == -1) return Error::last("unable to create signalfd");
  signals_.reset(sfd);
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep == -1) return Error::last("unable to create epoll");
  epoll_.reset(ep);
  if (auto s = watch(signals_.get(), kTagSignal); !s) return s;
  if (auto s = watch(0, kTagInput); !s) {
    if (s.error().code() != EPERM) return s;
    input_plain_ = true;  // regular file or /dev/null: reads never block
  }
  raise_nofile(limit_);
  return {};
}

void Spawner::send(unsigned slot, std::string_view report) {
  if (!writing_) return;
  // qmail-send gone: keep serving until our input ends, as qmail's okwrite.
  if (!write_all(1, encode_spawn_report(slot, report))) writing_ = false;
}

Status Spawner::read_input() {
  char buf[kChunk];
  ssize_t r = ::read(0, buf, sizeof buf);
  if (r < 0 && (errno == EINTR || errno == EAGAIN)) return {};
  if (r <= 0) {
    reading_ = false;
    if (!input_plain_) ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, 0, nullptr);
    return {};
  }
  std::vector<SpawnCommand> cmds;
  Status parsed = parser_.feed(std::string_view(buf, static_cast<size_t>(r)), cmds);
  for (const auto& cmd : cmds)
    if (auto s = handle(cmd); !s) return s;
  return parsed;
}

Status Spawner::handle(const SpawnCommand& cmd) {
  Delivery& d = table_[cmd.slot];
  if (d.used) return Error::temp("spawn command for a slot in use", EPROTO);
  if (const char* bad = check_command(cmd); *bad) {
    send(cmd.slot, bad);
    return {};
  }

  auto opened = open_flags(cmd.message, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY);
  if (!opened) {
    send(cmd.slot, "Zqmail-spawn unable to open message. (#4.3.0)\n");
    return {};
  }
  Fd message = std::move(*opened);
  struct stat st;
  if (::fstat(message.get(), &st) == -1) {
    send(cmd.slot, "Zqmail-spawn unable to fstat message. (#4.3.0)\n");
    return {};
  }
  if (!S_ISREG(st.st_mode)) {
    send(cmd.slot, "ZSorry, message has wrong type. (#4.3.5)\n");
    return {};
  }
  if (st.st_uid != owner_) {  // the queue's owner must be trusted: damage control
    send(cmd.slot, "ZSorry, message has wrong owner. (#4.3.5)\n");
    return {};
  }
  int fl = ::fcntl(message.get(), F_GETFL);
  if (fl == -1 || ::fcntl(message.get(), F_SETFL, fl & ~O_NONBLOCK) == -1) {
    send(cmd.slot, "Zqmail-spawn unable to open message. (#4.3.0)\n");
    return {};
  }

  SpawnStart started = program_.start(cmd, message);
  if (started.pid < 0) {
    send(cmd.slot, started.report);
    return {};
  }
  d.used = true;
  d.pid = started.pid;
  d.wstat = 0;
  d.out = std::move(started.output);
  d.output = SpawnOutput(program_.output_cap, program_.truncation_note);
  if (d.out && !watch(d.out.get(), kTagFirstSlot + cmd.slot)) d.out.reset();
  slot_of_[d.pid] = cmd.slot;
  ++active_;
  return {};
}

void Spawner::read_output(unsigned slot) {
  Delivery& d = table_[slot];
  if (!d.out) return;
  char buf[kChunk];
  ssize_t r = ::read(d.out.get(), buf, sizeof buf);
  if (r > 0) {
    d.output.append(std::string_view(buf, static_cast<size_t>(r)));
  } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
    d.out.reset();  // closing also removes it from the epoll set
  }
}

void Spawner::reap() {
  struct signalfd_siginfo si;
  while (::read(signals_.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
  }
  for (;;) {
    int wstat = 0;
    pid_t pid = ::waitpid(-1, &wstat, WNOHANG);
    if (pid <= 0) {
      if (pid < 0 && errno == EINTR) continue;
      return;
    }
    auto it = slot_of_.find(pid);
    if (it == slot_of_.end()) continue;
    Delivery& d = table_[it->second];
    d.pid = -1;
    d.wstat = wstat;
    reaped_.push_back(it->second);
    slot_of_.erase(it);
  }
}

void Spawner::finish(unsigned slot) {
  Delivery& d = table_[slot];
  if (d.out) {
    char buf[kChunk];
    for (size_t drained = 0; drained < kDrainMax;) {
      ssize_t r = ::read(d.out.get(), buf, sizeof buf);
      if (r <= 0) {
        if (r < 0 && errno == EINTR) continue;
        break;
      }
      d.output.append(std::string_view(buf, static_cast<size_t>(r)));
      drained += static_cast<size_t>(r);
    }
    d.out.reset();
  }
  std::string report = program_.report(d.wstat, d.output.text());
  send(slot, report);
  d.used = false;
  d.output = SpawnOutput();
  --active_;
}

Status Spawner::run() {
  if (auto s = setup(); !s) return s;
  if (!write_all(1, encode_spawn_banner(limit_))) writing_ = false;

  constexpr int kEvents = 64;
  struct epoll_event events[kEvents];
  for (;;) {
    if (!reading_ && active_ == 0) return {};
    int timeout = (reading_ && input_plain_) ? 0 : -1;
    int n = ::epoll_wait(epoll_.get(), events, kEvents, timeout);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::last("epoll_wait failed");
    }
    for (int i = 0; i < n; ++i) {
      uint64_t tag = events[i].data.u64;
      if (tag == kTagInput) {
        if (reading_)
          if (auto s = read_input(); !s) return s;
      } else if (tag == kTagSignal) {
        reap();
      } else if (tag - kTagFirstSlot < limit_) {
        read_output(static_cast<unsigned>(tag - kTagFirstSlot));
      }
    }
    if (reading_ && input_plain_)
      if (auto s = read_input(); !s) return s;
    // Reports go out in the order the children ended.
    std::vector<unsigned> done;
    done.swap(reaped_);
    for (unsigned slot : done) finish(slot);
  }
}

}  // namespace

Status run_spawn(const SpawnProgram& program, unsigned limit) {
  if (limit == 0 || limit > 0xffff) return Error::temp("bad spawn limit", EINVAL);
  struct stat st;
  if (::stat(".", &st) == -1) return Error::last("unable to stat queue/mess");
  Spawner spawner(program, limit, st.st_uid);
  return spawner.run();
}

SpawnStart fork_delivery(const Fd& message, const std::function<void()>& child,
                         int failure_exit) {
  Fd rd;
  Fd wr;
  if (!make_pipe(rd, wr)) return SpawnStart::now("Zqmail-spawn unable to create pipe. (#4.3.0)\n");
  pid_t pid = ::fork();
  if (pid == -1) return SpawnStart::now("Zqmail-spawn unable to fork. (#4.3.0)\n");
  if (pid == 0) {
    // The child: descriptors 0-2 are open in the spawn, so message and wr
    // are >= 3 and the dup2s cannot clobber each other. Both keep
    // O_CLOEXEC; the copies on 0, 1, 2 do not.
    ::sigprocmask(SIG_SETMASK, &g_child_mask, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    if (g_restore_nofile) ::setrlimit(RLIMIT_NOFILE, &g_child_nofile);
    if (::dup2(message.get(), 0) == -1) ::_exit(failure_exit);
    if (::dup2(wr.get(), 1) == -1) ::_exit(failure_exit);
    if (::dup2(1, 2) == -1) ::_exit(failure_exit);
    try {
      child();
    } catch (...) {
    }
    ::_exit(failure_exit);
  }
  wr.reset();
  int fl = ::fcntl(rd.get(), F_GETFL);
  if (fl != -1) ::fcntl(rd.get(), F_SETFL, fl | O_NONBLOCK);
  SpawnStart s;
  s.pid = pid;
  s.output = std::move(rd);
  return s;
}

}  // namespace qng
