// maildir2mbox: moves the messages of $MAILDIR into the mbox $MAIL, via
// $MAILTMP (same file system). Exit 0 done (or nothing to do), 111 on any
// failure, with nothing lost: the maildir files go only after the new mbox
// is in place.
#include <sys/stat.h>

#include <cstring>
#include <string>

#include "fd.h"
#include "maildir2mbox.h"

namespace {

constexpr const char* kUsage =
    "maildir2mbox: usage: MAILDIR=dir MAIL=mbox MAILTMP=tmp maildir2mbox";

int report(const qng::MoveOutcome& o) {
  if (!o.text.empty()) (void)qng::write_all(2, o.text + "\n");
  return o.code;
}

}  // namespace

int main(int argc, char** argv) try {
  ::umask(077);
  if (argc == 2 && std::strcmp(argv[1], "--help") == 0) {
    (void)qng::write_all(1, std::string(kUsage) + "\n");
    return 0;
  }
  return report(qng::maildir2mbox());
} catch (...) {
  return report({111, "maildir2mbox: fatal: out of memory"});
}
