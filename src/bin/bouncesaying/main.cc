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
    auto ended = qng::run_child(std::vector<std::string>(argv + 2, argv + argc));
    if (!ended) return die(111, kFatal + ended.error().message());
    if (ended->crashed) return die(111, std::string(kFatal) + "child crashed");
    if (ended->code == 111) return die(111, std::string(kFatal) + "temporary child error");
    if (ended->code != 0) return 0;
  }
  return die(100, argv[1]);
} catch (...) {
  return die(111, std::string(kFatal) + "out of memory");
}
