// maildirmake dir: creates the maildir dir with dir/tmp, dir/new and
// dir/cur, mode 0700. Exit 0, 100 usage, 111 on any failure (an existing
// dir included).
#include <sys/stat.h>

#include <cstring>
#include <string>

#include "fd.h"
#include "maildir.h"

namespace {

constexpr const char* kUsage = "maildirmake: usage: maildirmake name";

int die(int code, const std::string& text) {
  (void)qng::write_all(2, text + "\n");
  return code;
}

}  // namespace

int main(int argc, char** argv) try {
  ::umask(077);
  if (argc == 2 && std::strcmp(argv[1], "--help") == 0) {
    (void)qng::write_all(1, std::string(kUsage) + "\n");
    return 0;
  }
  if (argc < 2) return die(100, kUsage);
  if (auto s = qng::maildir_make(argv[1]); !s)
    return die(111, "maildirmake: fatal: " + s.error().message());
  return 0;
} catch (...) {
  return die(111, "maildirmake: fatal: out of memory");
}
