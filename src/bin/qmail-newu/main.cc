// qmail-newu: compile QMAILHOME/users/assign into users/cdb. No arguments.
//
// Writes users/cdb.tmp, fsyncs it, renames it to users/cdb and fsyncs
// users/. Any failure, a format error included, exits 111 with
// `qmail-newu: fatal: ...` on stderr and leaves users/cdb as it was.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "assign.h"
#include "atomic.h"
#include "failure.h"
#include "instance.h"

namespace {

int fatal(const std::string& what) {
  std::fprintf(stderr, "qmail-newu: fatal: %s\n", what.c_str());
  return qng::kExitTemp;
}

int run() {
  ::umask(033);
  std::string home = qng::home_trusting_env();
  if (::chdir(home.c_str()) == -1)
    return fatal("unable to chdir to " + home + ": " + std::strerror(errno));
  auto text = qng::read_file("users/assign", qng::kMaxAssignBytes);
  if (!text) {
    int err = text.error().code();
    if (err == E2BIG) return fatal("users/assign is too big");
    return fatal(std::string("unable to read users/assign: ") + std::strerror(err));
  }
  auto entries = qng::parse_assign(*text);
  if (!entries) return fatal("bad format in users/assign: " + entries.error().context());
  auto cdb = qng::CdbWriter::create("users/cdb", 0644);
  if (!cdb) return fatal(cdb.error().message());
  for (const auto& [key, value] : qng::assign_cdb_records(*entries)) {
    if (auto s = cdb->add(key, value); !s) return fatal(s.error().message());
  }
  if (auto s = cdb->finish(); !s) return fatal(s.error().message());
  return qng::kExitOk;
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc > 1 && std::strcmp(argv[1], "--help") == 0) {
    std::fputs("usage: qmail-newu\n"
               "compiles QMAILHOME/users/assign into users/cdb\n", stdout);
    return 0;
  }
  return run();
} catch (...) {
  return fatal("out of memory");
}
