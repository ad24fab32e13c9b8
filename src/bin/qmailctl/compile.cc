// compile.cc: qmailctl cdb: rebuild every compiled file of an instance.
//
//   users/assign           -> users/cdb                (qmail-newu)
//   control/morercpthosts  -> control/morercpthosts.cdb (qmail-newmrh)
//   control/tcp.SERVICE    -> control/tcp.SERVICE.cdb   (tcprules), for
//                             smtp pop3 qmtp qmqp when the source exists
//   users/cdb, homes, ...  -> users/recipients.cdb     (qmail-smtpd's
//                             recipient check)
// Each is written to a temporary file, fsynced and renamed, so readers (a
// running tcpserver, qmail-smtpd, qmail-lspawn) see the old or the new
// file, never half; a source with an error leaves its old database alone.
#include "compile.h"

#include <sys/stat.h>

#include <cerrno>

#include "assign.h"
#include "atomic.h"
#include "cdb.h"
#include "commands.h"
#include "failure.h"
#include "layout.h"
#include "morercpthosts.h"
#include "recipients.h"
#include "say.h"
#include "size.h"
#include "tcprules.h"

namespace qng::ctl {

namespace {

constexpr size_t kMaxRulesBytes = size_t{64} << 20;  // one control/tcp.SERVICE

}  // namespace

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
  auto text = read_file(src, kMaxMoreRcptHostsBytes);
  if (!text) {
    if (text.error().code() == ENOENT) return {};
    return Error::sys(text.error().code(), "unable to read " + src);
  }
  return write_morercpthosts_cdb(*text, dir + "/control/morercpthosts.cdb");
}

Status compile_tcp_rules(const std::string& dir, const std::string& service) {
  std::string src = dir + "/control/tcp." + service;
  auto text = read_file(src, kMaxRulesBytes);
  if (!text) {
    if (text.error().code() == ENOENT) return {};
    return Error::sys(text.error().code(), "unable to read " + src);
  }
  if (auto st = compile_rules_file(*text, src + ".cdb", src + ".tmp"); !st) {
    if (st.error().permanent()) return Error::perm(src + ": " + st.error().message());
    return st;
  }
  return {};
}

Status compile_recipients(const std::string& dir) { return build_recipients_db(dir); }

int compile_all(const std::string& dir) {
  bool temp = false, perm = false;
  auto step = [&](const Status& st) {
    if (st) return;
    fatal(st.error());
    (st.error().permanent() ? perm : temp) = true;
  };
  step(compile_users(dir));
  step(compile_morercpthosts(dir));
  for (const Service& s : kServices) step(compile_tcp_rules(dir, s.name));
  step(compile_recipients(dir));
  if (temp) return kExitTemp;
  return perm ? kExitPerm : kExitOk;
}

int run_cdb(const std::string& dir) {
  struct stat st;
  if (::stat((dir + "/control").c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return fatal(kExitPerm, dir + " is not an instance (no control/); make one with qmailctl init");
  return compile_all(dir);
}

}  // namespace qng::ctl
