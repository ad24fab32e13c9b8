// deliver.cc: qmail-local's four kinds of delivery. The message is fd 0;
// each delivery rewinds it. Maildir and program deliveries run in a child,
// as in qmail; mbox and forward deliveries in this process.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

#include "child.h"
#include "fd.h"
#include "instance.h"
#include "io.h"
#include "local.h"
#include "lock.h"
#include "maildir.h"
#include "mbox.h"
#include "qqclient.h"

namespace qng::local {
namespace {

constexpr size_t kChunk = 65536;
constexpr unsigned kMboxLockSeconds = 30;
constexpr unsigned kMaildirAlarm = 86400;  // the maildir writer's 24 h timer

// Exit codes of the maildir child, read by deliver_maildir (qmail's).
constexpr int kMaildirTemp = 1;
constexpr int kMaildirChdir = 2;
constexpr int kMaildirTimeout = 3;
constexpr int kMaildirRead = 4;

std::string why(int err) { return std::strerror(err); }

bool rewind_message() { return ::lseek(0, 0, SEEK_SET) == 0; }

Outcome rewind_failed() { return {111, "Unable to rewind message. (#4.3.0)"}; }

Outcome fork_failed(int err) { return {111, "Unable to fork: " + why(err) + ". (#4.3.0)"}; }

void maildir_timeout(int) { ::_exit(kMaildirTimeout); }

// The child: all its failures are temporary; the exit code says which.
[[noreturn]] void maildir_child(const std::string& dir, const EnvelopeLines& lines) {
  ::signal(SIGALRM, maildir_timeout);
  if (::chdir(dir.c_str()) == -1) ::_exit(is_temp(errno) ? kMaildirTemp : kMaildirChdir);
  ::alarm(kMaildirAlarm);
  auto name = maildir_deliver(".", 0, lines.rp + lines.dt);
  if (name) ::_exit(0);
  ::_exit(name.error().context().starts_with("unable to read message") ? kMaildirRead
                                                                        : kMaildirTemp);
}

}  // namespace

Outcome deliver_maildir(const std::string& dir, const EnvelopeLines& lines) {
  if (!rewind_message()) return rewind_failed();
  pid_t pid = ::fork();
  if (pid == -1) return fork_failed(errno);
  if (pid == 0) maildir_child(dir, lines);
  auto ended = wait_child(pid);
  if (!ended) return {111, "Temporary error on maildir delivery. (#4.3.0)"};
  if (ended->crashed) return {111, "Aack, child crashed. (#4.3.0)"};
  switch (ended->code) {
    case 0:
      return {};
    case kMaildirChdir:
      return {111, "Unable to chdir to maildir. (#4.2.1)"};
    case kMaildirTimeout:
      return {111, "Timeout on maildir delivery. (#4.3.0)"};
    case kMaildirRead:
      return {111, "Unable to read message. (#4.3.0)"};
    default:
      return {111, "Temporary error on maildir delivery. (#4.3.0)"};
  }
}

Outcome deliver_mbox(const std::string& path, const EnvelopeLines& lines) {
  if (!rewind_message()) return rewind_failed();
  auto opened = open_flags(path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_NOCTTY, 0600);
  if (!opened)
    return {111, "Unable to open " + path + ": " + why(opened.error().code()) + ". (#4.2.1)"};
  Fd fd = std::move(*opened);

  // A lock that cannot be had at all (no flock here) is done without, as
  // qmail; one that stays held for 30 seconds is a temporary failure.
  auto locked = lock_exclusive(fd.get(), true, kMboxLockSeconds);
  if (!locked && locked.error().code() == ETIMEDOUT)
    return {111, "File has been locked for 30 seconds straight. (#4.3.0)"};
  const bool flaglocked = locked.ok();
  const off_t pos = ::lseek(fd.get(), 0, SEEK_END);

  auto give_back = [&](Outcome o) {
    if (flaglocked && pos != -1) (void)!::ftruncate(fd.get(), pos);
    return o;
  };
  auto write_error = [&](int err) {
    return give_back({111, "Unable to write " + path + ": " + why(err) + ". (#4.3.0)"});
  };

  Writer out(fd.get(), 0, kChunk);
  out.put(lines.uf);
  out.put(lines.rp);
  out.put(lines.dt);
  MboxQuoter quoter;
  std::string in(kChunk, '\0');
  std::string quoted;
  for (;;) {
    auto n = read_some(0, in.data(), in.size());
    if (!n)
      return give_back({111, "Unable to read message: " + why(n.error().code()) + ". (#4.3.0)"});
    if (*n == 0) break;
    quoted.clear();
    quoter.feed(std::string_view(in.data(), *n), quoted);
    out.put(quoted);
    if (out.failed()) break;
  }
  quoted.clear();
  quoter.finish(quoted);
  out.put(quoted);
  out.put('\n');
  if (auto f = out.flush(); !f) return write_error(f.error().code());
  if (auto s = fsync_fd(fd.get(), path); !s) return write_error(s.error().code());
  if (auto s = fd.close(); !s) return write_error(s.error().code());
  return {};
}

Outcome deliver_program(const std::string& command, bool& stop) {
  if (!rewind_message()) return rewind_failed();
  const char* args[] = {"/bin/sh", "-c", command.c_str(), nullptr};
  pid_t pid = ::fork();
  if (pid == -1) return fork_failed(errno);
  if (pid == 0) {
    ::signal(SIGPIPE, SIG_DFL);
    ::execv(args[0], const_cast<char* const*>(args));
    int err = errno;
    std::string text = "Unable to run /bin/sh: " + why(err) + ". (#4.3.0)\n";
    (void)write_all(2, text);
    ::_exit(111);
  }
  auto ended = wait_child(pid);
  if (!ended) return {111, "Unable to wait for child: " + ended.error().message() + ". (#4.3.0)"};
  return program_outcome(ended->crashed, ended->code, stop);
}

Outcome forward(const std::vector<std::string>& recipients, const EnvelopeLines& lines,
                const std::string& newsender, pid_t& qp) {
  if (!rewind_message()) return rewind_failed();
  auto started = QueueClient::start(home_trusting_env());
  if (!started) return fork_failed(started.error().code());
  QueueClient& qq = *started;
  qp = qq.pid();
  qq.put(lines.dt);
  std::string in(kChunk, '\0');
  for (;;) {
    auto n = read_some(0, in.data(), in.size());
    if (!n) return {111, "Unable to read message: " + why(n.error().code()) + ". (#4.3.0)"};
    if (*n == 0) break;
    qq.put(std::string_view(in.data(), *n));
  }
  qq.from(newsender);
  for (const std::string& r : recipients) qq.to(r);
  std::string qqx = qq.finish();
  if (qqx.empty()) return {};
  return {qqx[0] == 'D' ? 100 : 111, "Unable to forward message: " + qqx.substr(1) + "."};
}

}  // namespace qng::local
