// tool.cc: qmail-dkim's commands (tool.h, docs/dkim.md).
#include "tool.h"

#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <string>

#include "dkim.h"
#include "failure.h"
#include "fd.h"
#include "io.h"

namespace qng::dkimtool {

int usage() {
  std::fputs(
      "qmail-dkim: usage: qmail-dkim sign SENDER < message > signed-message\n"
      "                   qmail-dkim keygen DOMAIN [SELECTOR] [rsa|ed25519]\n"
      "                   qmail-dkim dns DOMAIN SELECTOR\n",
      stderr);
  return kExitPerm;
}

int fatal(int code, const std::string& what) {
  std::fprintf(stderr, "qmail-dkim: fatal: %s\n", what.c_str());
  return code;
}

namespace {

int fail(const Error& e) { return fatal(e.permanent() ? kExitPerm : kExitTemp, e.message()); }

// A seekable descriptor holding standard input: stdin itself when it is a
// file, else an unlinked temporary copy.
Result<Fd> seekable_stdin() {
  if (::lseek(0, 0, SEEK_CUR) != -1) return Fd(::dup(0));
  const char* t = ::getenv("TMPDIR");
  std::string tmpl = (t && t[0] == '/') ? t : "/tmp";
  tmpl += "/qmail-dkim.XXXXXX";
  Fd fd(::mkstemp(tmpl.data()));
  if (!fd) return Error::last("unable to create a temporary file in " + dir_of(tmpl));
  ::unlink(tmpl.c_str());
  char buf[65536];
  for (;;) {
    auto n = read_some(0, buf, sizeof buf);
    if (!n) return Error::temp("unable to read the message", n.error().code());
    if (*n == 0) break;
    if (auto s = write_all(fd.get(), std::string_view(buf, *n)); !s)
      return Error::temp("unable to write the temporary file", s.error().code());
  }
  return fd;
}

}  // namespace

int run_sign(const std::string& home, const std::vector<std::string>& args) {
  if (args.size() != 1) return usage();
  auto in = seekable_stdin();
  if (!in) return fail(in.error());
  if (!*in) return fatal(kExitTemp, "unable to duplicate standard input");
  auto signed_ = dkim_sign_fd(home, in->get(), args[0], std::time(nullptr));
  if (!signed_) return fail(signed_.error());
  if (signed_->headers.empty())
    std::fputs("qmail-dkim: warning: no DKIM key for the From: or the sender domain; "
               "message not signed\n", stderr);
  Writer out(1);
  out.put(signed_->headers);
  char buf[65536];
  off_t offset = 0;
  for (;;) {
    ssize_t r = ::pread(in->get(), buf, sizeof buf, offset);
    if (r < 0) {
      if (errno == EINTR) continue;
      return fail(Error::last("unable to read the message"));
    }
    if (r == 0) break;
    offset += r;
    out.put(std::string_view(buf, static_cast<size_t>(r)));
  }
  if (auto s = out.flush(); !s) return fatal(kExitTemp, "unable to write output: " + s.error().message());
  return kExitOk;
}

int run_keygen(const std::string& home, const std::vector<std::string>& args) {
  if (args.empty() || args.size() > 3) return usage();
  std::vector<std::string> a = args;
  DkimAlgo algo = DkimAlgo::kRsaSha256;
  if (a.size() >= 2 && (a.back() == "rsa" || a.back() == "ed25519")) {
    algo = a.back() == "rsa" ? DkimAlgo::kRsaSha256 : DkimAlgo::kEd25519Sha256;
    a.pop_back();
  }
  if (a.size() > 2) return usage();
  std::string selector =
      a.size() == 2 ? a[1] : (algo == DkimAlgo::kRsaSha256 ? "default" : "ed25519");
  auto record = dkim_keygen(home, a[0], selector, algo);
  if (!record) return fail(record.error());
  std::printf("%s\n", record->c_str());
  if (std::fflush(stdout) != 0) return fatal(kExitTemp, "unable to write output");
  return kExitOk;
}

int run_dns(const std::string& home, const std::vector<std::string>& args) {
  if (args.size() != 2) return usage();
  auto record = dkim_dns_record(home, args[0], args[1]);
  if (!record) return fail(record.error());
  std::printf("%s\n", record->c_str());
  if (std::fflush(stdout) != 0) return fatal(kExitTemp, "unable to write output");
  return kExitOk;
}

}  // namespace qng::dkimtool
