// netstring.cc: fuzz target for src/lib/netstring.h: parse_netstring on a
// buffer and read_netstring on a stream (QMTP, QMQP and qmail-qmqpc read
// them from the network). The first byte picks the length cap.
#include <cerrno>
#include <string>
#include <vector>

#include "common/fuzz.h"
#include "io.h"
#include "netstring.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace qng;
  fuzz::Cursor cur(fuzz::as_view(data, size));
  const size_t max = cur.byte() < 128 ? 1000 : 16;
  const std::string_view all = cur.rest();

  std::vector<std::string> parsed;
  std::string_view in = all;
  for (;;) {
    size_t before = in.size();
    auto ns = parse_netstring(in, max);
    if (!ns) {
      QNG_FUZZ_CHECK(ns.error().code() == EPROTO || ns.error().code() == E2BIG);
      break;
    }
    QNG_FUZZ_CHECK(ns->size() <= max);
    QNG_FUZZ_CHECK(in.size() < before);
    // A netstring written back is the bytes it was read from.
    QNG_FUZZ_CHECK(netstring(*ns) == all.substr(all.size() - before, before - in.size()));
    parsed.emplace_back(*ns);
  }

  // The stream reader agrees with the buffer parser on every netstring the
  // latter accepted.
  Fd fd = fuzz::memory_fd(all);
  Reader r(fd.get(), 0, 64);
  for (size_t i = 0;; ++i) {
    auto ns = read_netstring(r, max);
    if (!ns) {
      QNG_FUZZ_CHECK(i >= parsed.size());
      break;
    }
    if (i < parsed.size()) QNG_FUZZ_CHECK(*ns == parsed[i]);
  }
  return 0;
}
