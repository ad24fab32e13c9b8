// requeue.cc: a .qmail delivery's message, queued anew (see requeue.h).
#include "requeue.h"

#include "fd.h"
#include "qqclient.h"

namespace qng {

namespace {
constexpr size_t kChunk = 65536;
}  // namespace

Result<Requeued> requeue(const std::string& home, std::string_view dtline,
                         std::string_view sender, const std::vector<std::string>& recipients) {
  auto started = QueueClient::start(home);
  if (!started) return started.error();
  QueueClient& qq = *started;
  qq.put(dtline);
  std::string buf(kChunk, '\0');
  for (;;) {
    auto n = read_some(0, buf.data(), buf.size());
    if (!n) return Error::sys(n.error().code(), "unable to read message");
    if (*n == 0) break;
    qq.put(std::string_view(buf.data(), *n));
  }
  Requeued r;
  r.qp = qq.pid();
  qq.from(sender);
  for (const auto& to : recipients) qq.to(to);
  r.qqx = qq.finish();
  return r;
}

}  // namespace qng
