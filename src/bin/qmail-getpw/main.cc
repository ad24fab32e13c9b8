// qmail-getpw: which account controls a local part.
//
// qmail-getpw local
// Prints user \0 uid \0 gid \0 home \0 dash \0 ext \0 on fd 1 and exits 0.
// Exits 100 without an argument, 116 when there is no alias account, 118
// when getpwnam fails temporarily, 115 when a home cannot be checked, 111
// when the output cannot be written. Run by qmail-lspawn as qmailp (system
// instance) or as the instance's user (unprivileged instance). No --help:
// every argument is a local part, and "--help" is a valid one.
#include <unistd.h>

#include <new>

#include "fd.h"
#include "getpw.h"
#include "instance.h"

int main(int argc, char** argv) try {
  if (argc < 2) return 100;
  using namespace qng::getpw;
  Mode mode = mode_for(qng::home_trusting_env(), ::getuid(), ::getgid());
  Found found;
  if (int code = lookup(real_system(), argv[1], mode, found); code != 0) return code;
  return qng::write_all(1, format(found)) ? 0 : 111;
} catch (const std::bad_alloc&) {
  return 111;
}
