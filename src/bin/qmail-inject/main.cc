// qmail-inject [-nNaAhH] [-fsender] [recip ...]: reads a message on stdin,
// rewrites its header (qmail-header(5)) and queues it through qmail-queue
// ($QMAILQUEUE when set), or prints it with -n.
// Exit 0 queued; 100 usage, syntax, no recipients, permanent queue failure;
// 111 temporary failure (controls, reading, queue).
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "control.h"
#include "failure.h"
#include "fd.h"
#include "header.h"
#include "instance.h"
#include "io.h"
#include "message.h"
#include "settings.h"

namespace {

using namespace qng;
using namespace qng::inject;

void say(int fd, const std::string& text) { (void)write_all(fd, text); }

int fail(const Error& e) {
  std::string text = "qmail-inject: fatal: " + e.message();
  if (text.back() != '\n') text.push_back('\n');
  say(2, text);
  return e.permanent() ? kExitPerm : kExitTemp;
}

const char* env(const char* name) { return std::getenv(name); }

int run(const std::vector<std::string>& args) {
  auto opts = parse_args(args);
  if (!opts) {
    say(2, "qmail-inject: " + opts.error().message() + "\n");
    return kExitPerm;
  }
  if (opts->help) {
    say(1, std::string("usage: ") + kUsage + "\n");
    return kExitOk;
  }

  Settings settings = settings_from_env(env);
  settings.start = ::time(nullptr);
  settings.pid = ::getpid();
  if (auto s = read_mft_file(env, settings); !s) return fail(s.error());

  std::string home = home_trusting_env();
  if (::chdir(home.c_str()) == -1)
    return fail(Error::temp("unable to switch to " + home, errno));
  if (auto s = read_controls(Control("control"), env, settings); !s) return fail(s.error());

  RecipientMode mode = resolve_mode(opts->mode, !opts->recipients.empty());
  HeaderRewriter rewriter(settings, mode, !opts->queue);
  if (opts->sender) {
    if (auto s = rewriter.set_sender(*opts->sender); !s) return fail(s.error());
  }
  for (const auto& r : opts->recipients)
    if (auto s = rewriter.add_recipient(r); !s) return fail(s.error());

  Reader in(0);
  Status done;
  if (opts->queue) {
    QueueSink sink(home);
    done = inject_message(in, rewriter, true, sink);
  } else {
    PrintSink sink;
    done = inject_message(in, rewriter, false, sink);
  }
  if (!done) return fail(done.error());
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) try {
  ::signal(SIGPIPE, SIG_IGN);  // a reader that went away is a write error
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  return run(args);
} catch (...) {
  say(2, "qmail-inject: fatal: out of memory\n");
  return qng::kExitTemp;
}
