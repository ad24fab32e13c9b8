// control.cc: fuzz target for src/lib/control.h: every accessor of a
// control file on arbitrary file contents (control files are often made by
// scripts from other data, and qmail-ng's programs all read them).
#include <fcntl.h>

#include <string>

#include "common/fuzz.h"
#include "control.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace qng;
  std::string_view text = fuzz::as_view(data, size);
  static const std::string dir = [] {
    std::string d = fuzz::scratch_dir() + "/control";
    if (::mkdir(d.c_str(), 0700) != 0) std::abort();
    return d;
  }();
  {
    auto fd = open_write(dir + "/file", 0600);
    QNG_FUZZ_CHECK(fd);
    QNG_FUZZ_CHECK(write_all(fd->get(), text));
    QNG_FUZZ_CHECK(fd->close());
  }
  Control c(dir);
  if (auto line = c.line("file")) {
    QNG_FUZZ_CHECK(line->has_value());
    QNG_FUZZ_CHECK((*line)->find('\n') == std::string::npos);
  }
  (void)c.line_or("file", true, "x");
  if (auto lines = c.lines("file")) {
    for (const auto& l : *lines) {
      QNG_FUZZ_CHECK(!l.empty() && l[0] != '#');
      QNG_FUZZ_CHECK(l.find('\n') == std::string::npos);
    }
  }
  (void)c.number("file", 7);
  if (auto all = c.contents("file", 1 << 20)) QNG_FUZZ_CHECK(all->has_value() && **all == text);
  (void)c.contents("file", 8);
  (void)strip_trailing_space(std::string(text));
  return 0;
}
