// inject_message.cc: fuzz target for the whole of qmail-inject after its
// arguments (src/bin/qmail-inject/message.h, header.h): the header read
// field by field, each field rewritten, the fields qmail-inject adds, the
// envelope it derives and the body copied, into a sink in memory. The
// first byte chooses the recipient mode, -n, and QMAILINJECT letters.
#include <string>
#include <vector>

#include "common/fuzz.h"
#include "header.h"
#include "io.h"
#include "message.h"
#include "settings.h"

namespace {

using namespace qng;
using namespace qng::inject;

class StringSink : public Sink {
 public:
  Status begin(const std::string& sender, const std::vector<std::string>& recipients) override {
    QNG_FUZZ_CHECK(!began_);
    began_ = true;
    QNG_FUZZ_CHECK(sender.find('\0') == std::string::npos);
    for (const auto& r : recipients) QNG_FUZZ_CHECK(r.find('\0') == std::string::npos);
    return {};
  }
  void put(std::string_view bytes) override {
    QNG_FUZZ_CHECK(began_);
    out_.append(bytes);
  }
  Status end() override {
    QNG_FUZZ_CHECK(out_.empty() || out_.back() == '\n');
    return {};
  }

 private:
  bool began_ = false;
  std::string out_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Cursor cur(fuzz::as_view(data, size));
  const uint8_t flags = cur.byte();
  const char* inject_letters = (flags & 0x10) ? "csfirm" : (flags & 0x20) ? "c" : "";
  auto env = [&](const char* name) -> const char* {
    std::string_view n(name);
    if (n == "QMAILINJECT") return inject_letters;
    if (n == "QMAILUSER") return "joe";
    if (n == "QMAILHOST") return "example.org";
    if (n == "QMAILNAME") return (flags & 0x40) ? "Joe \"Q\" (Public)" : nullptr;
    return nullptr;
  };
  Settings s = settings_from_env(env);
  s.start = 1700000000;
  s.pid = 4242;
  s.rules = *RewriteRules::make("dh.example", "dd.example", "pd.example");
  s.idhost = "id.example";
  if (flags & 0x80) s.mft = std::vector<std::string>{"list@example.org", "other@example.net"};

  static constexpr RecipientMode kModes[] = {RecipientMode::kArgs, RecipientMode::kHeader,
                                             RecipientMode::kBoth, RecipientMode::kHeader};
  const RecipientMode mode = kModes[flags & 3];
  const bool print = flags & 4;
  HeaderRewriter rw(s, mode, print);
  if (flags & 8) {
    if (!rw.set_sender("Sender@Example.ORG")) return 0;
    if (!rw.add_recipient("rcpt@example.net")) return 0;
  }

  Fd fd = fuzz::memory_fd(cur.rest());
  Reader in(fd.get(), 0, 512);
  StringSink sink;
  Status st = inject_message(in, rw, !print, sink);
  if (st) {
    for (const auto& r : rw.recipients()) QNG_FUZZ_CHECK(!r.empty());
  }
  return 0;
}
