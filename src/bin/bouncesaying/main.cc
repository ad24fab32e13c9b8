// bouncesaying error [program [arg ...]]: without a program, or when the
// program exits 0, prints error and exits 100 (the message bounces with
// that text). Program exit 111 -> 111; any other exit -> 0.
#include <cstring>
#include <string>
#include <vector>

#include "child.h"
#include "fd.h"

namespace {

constexpr const char* kFatal = "bouncesaying: fatal: ";
constexpr const char* kUsage = "bouncesaying: usage: bouncesaying error [ program [ arg ... ] ]";

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
  if (argc < 2) return die(100, kUsage);
  if (argc > 2) {
    auto cond = qng::run_condition(std::vector<std::string>(argv + 2, argv + argc));
    if (!cond) return die(111, kFatal + cond.error().message());
    if (*cond == qng::Condition::kTemporary)
      return die(111, std::string(kFatal) + "temporary child error");
    if (*cond == qng::Condition::kNo) return 0;
  }
  return die(100, argv[1]);
} catch (...) {
  return die(111, std::string(kFatal) + "out of memory");
}
