// compile.cc: qmailctl cdb: rebuild every compiled file of an instance.
//
// users/assign -> users/cdb (qmail-newu, src/lib/assign.h) and
// control/morercpthosts -> control/morercpthosts.cdb (qmail-newmrh). Each is written to NAME.tmp,
// fsynced and renamed, so readers see the old or the new file, never half.
//
// Not yet: control/tcp.smtp (and tcp.pop3, tcp.qmtp, tcp.qmqp) -> *.cdb in
// tcprules format, and the recipients database. They come with the listener
// and rcptcheck work; until then nothing is compiled or printed for them.
#include "compile.h"

#include <sys/stat.h>

#include <cerrno>

#include "assign.h"
#include "atomic.h"
#include "cdb.h"
#include "commands.h"
#include "failure.h"
#include "say.h"
#include "size.h"

namespace qng::ctl {

namespace {

constexpr size_t kMaxMoreRcptHosts = size_t{256} << 20;  // bytes of control/morercpthosts

}  // namespace

std::optional<std::string> morercpthosts_key(std::string_view line) {
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\n'))
    line.remove_suffix(1);
  if (line.empty() || line.front() == '#') return std::nullopt;
  std::string key(line);
  for (char& c : key)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return key;
}

Status compile_users(const std::string& dir) {
  std::string src = dir + "/users/assign";
  auto text = read_file(src, kMaxAssignBytes);
  if (!text) return Error::sys(text.error().code(), "unable to read " + src);
  if (auto st = compile_assign(*text, dir + "/users/cdb"); !st) {
    if (st.error().permanent()) return Error::perm("bad format in " + src + ": " + st.error().message());
    return st;
  }
  // An unprivileged instance delivers only as its owner (qmail-lspawn
  // refuses any other uid): say so now rather than at delivery.
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0 && st.st_uid != 0) {
    auto entries = parse_assign(*text);
    if (entries) {
      for (const auto& e : *entries) {
        auto uid = parse_decimal(e.uid);
        if (!uid || *uid != st.st_uid)
          warn(src + " line " + std::to_string(e.line) + ": uid " + e.uid +
               " is not the instance owner's (" + std::to_string(st.st_uid) +
               "): qmail-lspawn will not deliver there");
      }
    }
  }
  return {};
}

Status compile_morercpthosts(const std::string& dir) {
  std::string src = dir + "/control/morercpthosts";
  auto text = read_file(src, kMaxMoreRcptHosts);
  if (!text) {
    if (text.error().code() == ENOENT) return {};
    return Error::sys(text.error().code(), "unable to read " + src);
  }
  auto w = CdbWriter::create(dir + "/control/morercpthosts.cdb", 0644);
  if (!w) return w.error();
  std::string_view rest = *text;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    if (auto key = morercpthosts_key(line))
      if (auto st = w->add(*key, ""); !st) return st;
  }
  return w->finish();
}

int run_cdb(const std::string& dir) {
  if (auto st = compile_users(dir); !st) return fatal(st.error());
  if (auto st = compile_morercpthosts(dir); !st) return fatal(st.error());
  return kExitOk;
}

}  // namespace qng::ctl
