// condredirect newaddress program [arg ...]: runs program on the message
// (fd 0, seekable); if it exits 0, queues the message for newaddress with
// envelope sender $SENDER and $DTLINE in front, prints "condredirect: qp N"
// and exits 99 (qmail-local then skips the later lines). Program exit 111
// -> 111; any other exit -> 0 (nothing done). Other failures 100 / 111.
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "child.h"
#include "fd.h"
#include "instance.h"
#include "requeue.h"

namespace {

constexpr const char* kFatal = "condredirect: fatal: ";
constexpr const char* kUsage =
    "condredirect: usage: condredirect newaddress program [ arg ... ]";

int die(int code, const std::string& text) {
  (void)qng::write_all(2, text + "\n");
  return code;
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc == 2 && std::strcmp(argv[1], "--help") == 0) {
    (void)qng::write_all(1, std::string(kUsage) + "\n");
    return 0;
  }
  if (argc < 3) return die(100, kUsage);

  auto cond = qng::run_condition(std::vector<std::string>(argv + 2, argv + argc));
  if (!cond) return die(111, kFatal + cond.error().message());
  if (*cond == qng::Condition::kTemporary)
    return die(111, std::string(kFatal) + "temporary child error");
  if (*cond == qng::Condition::kNo) return 0;

  if (::lseek(0, 0, SEEK_SET) != 0) {
    int err = errno;
    return die(111, std::string(kFatal) + "unable to rewind: " + std::strerror(err));
  }
  ::signal(SIGPIPE, SIG_IGN);
  const char* sender = std::getenv("SENDER");
  if (!sender) return die(100, std::string(kFatal) + "SENDER not set");
  const char* dtline = std::getenv("DTLINE");
  if (!dtline) return die(100, std::string(kFatal) + "DTLINE not set");

  auto queued = qng::requeue(qng::home_trusting_env(), dtline, sender, {argv[1]});
  if (!queued) return die(111, kFatal + queued.error().message());
  const std::string& qqx = queued->qqx;
  if (!qqx.empty()) return die(qqx[0] == 'D' ? 100 : 111, kFatal + qqx.substr(1));
  return die(99, "condredirect: qp " + std::to_string(queued->qp));
} catch (...) {
  return die(111, std::string(kFatal) + "out of memory");
}
