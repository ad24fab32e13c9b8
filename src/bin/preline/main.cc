// preline [-dfrDFR] command [arg ...]: runs command with the message on its
// stdin, preceded by $UFLINE (From_), $RPLINE (Return-Path) and $DTLINE
// (Delivered-To), for programs that want an mbox-style message (-f, -r, -d
// leave one out; -F, -R, -D put it back). Exits with the command's code;
// 100 usage or a command that cannot run, 111 other failures.
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "child.h"
#include "error.h"
#include "fd.h"
#include "io.h"

namespace {

constexpr const char* kFatal = "preline: fatal: ";
constexpr const char* kUsage = "preline: usage: preline cmd [ arg ... ]";
constexpr size_t kChunk = 65536;

int die(int code, const std::string& text) {
  (void)qng::write_all(2, text + "\n");
  return code;
}

}  // namespace

int main(int argc, char** argv) try {
  ::signal(SIGPIPE, SIG_IGN);
  if (argc == 2 && std::strcmp(argv[1], "--help") == 0) {
    (void)qng::write_all(1, std::string(kUsage) + "\n");
    return 0;
  }
  const char* ufline = std::getenv("UFLINE");
  const char* rpline = std::getenv("RPLINE");
  const char* dtline = std::getenv("DTLINE");
  if (!ufline || !rpline || !dtline) return die(100, kUsage);

  bool uf = true, rp = true, dt = true;
  // Options only before the command (no GNU permutation: the command's own
  // options are its own); "--" ends them.
  int i = 1;
  for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; ++i) {
    if (std::strcmp(argv[i], "--") == 0) {
      ++i;
      break;
    }
    for (const char* o = argv[i] + 1; *o; ++o) {
      switch (*o) {
        case 'f': uf = false; break;
        case 'r': rp = false; break;
        case 'd': dt = false; break;
        case 'F': uf = true; break;
        case 'R': rp = true; break;
        case 'D': dt = true; break;
        default: return die(100, kUsage);
      }
    }
  }
  if (i >= argc) return die(100, kUsage);

  std::vector<char*> args(argv + i, argv + argc);
  args.push_back(nullptr);
  qng::Fd pipe_r, pipe_w;
  if (auto s = qng::make_pipe(pipe_r, pipe_w); !s)
    return die(111, std::string(kFatal) + "unable to create pipe: " +
                        std::strerror(s.error().code()));
  pid_t pid = ::fork();
  if (pid == -1) {
    int err = errno;
    return die(111, std::string(kFatal) + "unable to fork: " + std::strerror(err));
  }
  if (pid == 0) {
    if (::dup2(pipe_r.get(), 0) == -1) {
      int err = errno;
      (void)qng::write_all(
          2, std::string(kFatal) + "unable to set up fds: " + std::strerror(err) + "\n");
      ::_exit(111);
    }
    ::signal(SIGPIPE, SIG_DFL);
    ::execvp(args[0], args.data());
    int err = errno;
    (void)qng::write_all(2, std::string(kFatal) + "unable to run " + args[0] + ": " +
                                std::strerror(err) + "\n");
    ::_exit(qng::is_temp(err) ? 111 : 100);
  }
  pipe_r.reset();

  qng::Writer out(pipe_w.get(), 0, kChunk);
  if (uf) out.put(ufline);
  if (rp) out.put(rpline);
  if (dt) out.put(dtline);
  std::string buf(kChunk, '\0');
  std::string failure;
  for (;;) {
    auto n = qng::read_some(0, buf.data(), buf.size());
    if (!n) {
      failure = std::string("unable to copy input: ") + std::strerror(n.error().code());
      break;
    }
    if (*n == 0) break;
    out.put(std::string_view(buf.data(), *n));
    if (out.failed()) break;
  }
  // The command may stop reading and exit before it has seen everything
  // (EPIPE): then its own exit status is the answer, not a copy failure,
  // and no race between its exit and our write decides the result.
  bool stopped_reading = false;
  if (auto f = out.flush(); !f && failure.empty()) {
    stopped_reading = f.error().code() == EPIPE;
    failure = std::string("unable to copy input: ") + std::strerror(f.error().code());
  }
  pipe_w.reset();

  auto ended = qng::wait_child(pid);
  if (!ended) return die(111, kFatal + ended.error().message());
  if (!failure.empty() && !(stopped_reading && !ended->crashed)) return die(111, kFatal + failure);
  if (ended->crashed) return die(111, std::string(kFatal) + "child crashed");
  return ended->code;
} catch (...) {
  return die(111, std::string(kFatal) + "out of memory");
}
