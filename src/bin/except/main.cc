// except program [arg ...]: runs program and turns its exit code around:
// 0 -> 100 (permanent failure), 111 -> 111, anything else -> 0.
#include <cstring>
#include <string>
#include <vector>

#include "child.h"
#include "fd.h"

namespace {

constexpr const char* kFatal = "except: fatal: ";
constexpr const char* kUsage = "except: usage: except program [ arg ... ]";

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
  auto cond = qng::run_condition(std::vector<std::string>(argv + 1, argv + argc));
  if (!cond) return die(111, kFatal + cond.error().message());
  switch (*cond) {
    case qng::Condition::kYes:
      return 100;
    case qng::Condition::kTemporary:
      return 111;
    case qng::Condition::kNo:
      break;
  }
  return 0;
} catch (...) {
  return die(111, std::string(kFatal) + "out of memory");
}
