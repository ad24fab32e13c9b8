// qmail-qread: lists the messages in the queue. No arguments.
//
// One stats line per preprocessed message, then one line per recipient
// (see qread.cc). Uses $QMAILHOME, else the instance of this binary. Like
// qmail's, it writes warnings and fatal errors on stdout. Exit 0, or 111.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "instance.h"
#include "io.h"
#include "qread.h"

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--help") == 0) {
    std::fputs("usage: qmail-qread\nlists each message in the queue with its recipients\n",
               stdout);
    return 0;
  }
  qng::Writer out(1);
  int code = 0;
  try {
    std::string home = qng::home_trusting_env();
    if (::chdir(home.c_str()) == -1 || ::chdir("queue") == -1) {
      out.put("fatal: unable to chdir: ");
      out.put(std::strerror(errno));
      out.put("\n");
      code = 111;
    } else {
      code = qng::list_queue(out);
    }
  } catch (...) {
    out.put("fatal: out of memory\n");
    code = 111;
  }
  if (!out.flush()) return 111;
  return code;
}
