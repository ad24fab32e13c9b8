// manage.cc: qmailctl adddomain, deldomain, adduser, deluser, addalias,
// listusers: virtual domains and users without hand-editing (manage.h).
//
// Every command takes a lock on control/ (one editor at a time), changes its
// files with write_file_atomic, keeps users/assign's "." terminator, rebuilds
// the compiled files as `qmailctl cdb` does, and sends HUP to a running
// qmail-send so that it re-reads control/virtualdomains.
#include "manage.h"

#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <map>

#include "assign.h"
#include "atomic.h"
#include "compile.h"
#include "control.h"
#include "daemon.h"
#include "failure.h"
#include "fd.h"
#include "lock.h"
#include "maildir.h"
#include "manage_files.h"
#include "passwd.h"
#include "say.h"

namespace qng::ctl {

namespace {

constexpr unsigned kLockSeconds = 30;
constexpr size_t kMaxListBytes = 16u << 20;  // one control list file

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowercase(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = lower(c);
  return r;
}

std::string trim_right(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return std::string(s);
}

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

}  // namespace

bool valid_local_part(std::string_view s) {
  if (s.empty() || s.size() > 64 || s.front() == '.' || s.back() == '.') return false;
  if (s.find("..") != std::string_view::npos) return false;
  for (char c : s)
    if (!is_alnum(c) && c != '.' && c != '_' && c != '+' && c != '-') return false;
  return true;
}

bool valid_domain(std::string_view s) {
  if (s.empty() || s.size() > 253 || s.front() == '.' || s.back() == '.' || s.front() == '-')
    return false;
  if (s.find("..") != std::string_view::npos) return false;
  for (char c : s)
    if (!is_alnum(c) && c != '.' && c != '-' && c != '_') return false;
  return true;
}

Result<Address> parse_address(std::string_view s) {
  size_t at = s.rfind('@');
  if (at == std::string_view::npos) return Error::perm("want LOCAL@DOMAIN, not " + std::string(s));
  Address a{lowercase(s.substr(0, at)), lowercase(s.substr(at + 1))};
  if (!valid_local_part(a.local))
    return Error::perm("bad local part in " + std::string(s) +
                       " (letters, digits and . _ + - only)");
  if (!valid_domain(a.domain)) return Error::perm("bad domain in " + std::string(s));
  return a;
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    out.emplace_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s.append(l).push_back('\n');
  return s;
}

bool line_is(std::string_view line, std::string_view value) {
  return lowercase(trim_right(line)) == lowercase(value);
}

std::optional<std::string> vdom_key(std::string_view line) {
  if (line.empty() || line.front() == '#') return std::nullopt;
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  return lowercase(line.substr(0, colon));
}

std::optional<std::string> vdom_prefix(const std::vector<std::string>& lines,
                                       std::string_view domain) {
  std::optional<std::string> found;
  std::string want = lowercase(domain);
  for (const auto& l : lines) {
    auto key = vdom_key(l);
    if (key && *key == want) found = trim_right(std::string_view(l).substr(l.find(':') + 1));
  }
  return found;
}

std::optional<std::string> assign_exact_local(std::string_view line) {
  if (line.empty() || line.front() != '=') return std::nullopt;
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  return lowercase(line.substr(1, colon - 1));
}

std::string assign_insert(std::string_view text, std::string_view line) {
  std::vector<std::string> lines = split_lines(text);
  auto dot = std::find_if(lines.begin(), lines.end(),
                          [](const std::string& l) { return !l.empty() && l[0] == '.'; });
  if (dot == lines.end()) {
    lines.emplace_back(line);
    lines.emplace_back(".");
  } else {
    lines.insert(dot, std::string(line));
  }
  return join_lines(lines);
}

std::string assign_remove(std::string_view text, std::string_view local, size_t* removed) {
  std::string want = lowercase(local);
  std::vector<std::string> out;
  size_t n = 0;
  bool ended = false;
  for (auto& l : split_lines(text)) {
    if (!ended && !l.empty() && l[0] == '.') ended = true;
    if (!ended && l.size() > 1 && (l[0] == '=' || l[0] == '+')) {
      size_t colon = l.find(':');
      std::string key = lowercase(std::string_view(l).substr(1, colon == std::string::npos
                                                                     ? std::string::npos
                                                                     : colon - 1));
      if ((l[0] == '=' && key == want) || (l[0] == '+' && key == want + "-")) {
        ++n;
        continue;
      }
    }
    out.push_back(std::move(l));
  }
  if (removed) *removed = n;
  return join_lines(out);
}

std::string assign_line(std::string_view local, std::string_view user, uid_t uid, gid_t gid,
                        std::string_view home) {
  return "=" + std::string(local) + ":" + std::string(user) + ":" + std::to_string(uid) + ":" +
         std::to_string(gid) + ":" + std::string(home) + ":::";
}

std::string alias_file_name(std::string_view local) {
  std::string r = ".qmail-" + lowercase(local);
  for (size_t i = 7; i < r.size(); ++i)
    if (r[i] == '.') r[i] = ':';
  return r;
}

std::string alias_file_text(const std::vector<std::string>& targets) {
  std::string s;
  for (const auto& t : targets) s += "&" + t + "\n";
  return s;
}

bool valid_target(std::string_view s) {
  if (s.empty() || s.size() > 1000) return false;
  if (std::string_view("|/.#&+").find(s.front()) != std::string_view::npos) return false;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= ' ' || u == 127 || c == '<' || c == '>' || c == ',') return false;
  }
  size_t at = s.rfind('@');
  if (at == std::string_view::npos) return true;
  return at > 0 && valid_domain(s.substr(at + 1));
}

namespace {

// What the commands read of an instance, under the lock.
struct Inst {
  std::string dir;
  std::string me;
  std::vector<std::string> locals;  // Control::lines: comments stripped
  std::vector<std::string> vdoms;   // raw lines of control/virtualdomains
  std::vector<std::string> rcpthosts;  // raw lines
  std::string assign;               // users/assign's text
  Fd lock;                          // held on control/ while we edit
};

// Where an address of the instance lives.
struct Where {
  std::string qlocal;  // the local part qmail-send gives qmail-lspawn
  std::string home;    // DIR/home/D/local or DIR/home/local
};

Result<std::vector<std::string>> raw_lines(const std::string& path) {
  auto text = read_file(path, kMaxListBytes);
  if (!text) {
    if (text.error().code() == ENOENT) return std::vector<std::string>{};
    return Error::sys(text.error().code(), "unable to read " + path);
  }
  return split_lines(*text);
}

Result<Inst> open_inst(const std::string& dir) {
  if (auto st = check_instance(dir); !st) return st.error();
  Inst in;
  in.dir = dir;
  auto lock = open_dir(dir + "/control");
  if (!lock) return lock.error();
  if (auto st = lock_exclusive(lock->get(), true, kLockSeconds); !st)
    return Error::sys(st.error().code(), "unable to lock " + dir + "/control");
  in.lock = std::move(*lock);
  Control c(dir + "/control");
  auto me = c.line("me");
  if (!me) return me.error();
  if (!*me || (*me)->empty()) return Error::perm(dir + "/control/me is missing or empty");
  in.me = lowercase(**me);
  auto locals = c.lines("locals");
  if (!locals) return locals.error();
  for (auto& l : *locals) in.locals.push_back(lowercase(l));
  auto v = raw_lines(dir + "/control/virtualdomains");
  if (!v) return v.error();
  in.vdoms = std::move(*v);
  auto r = raw_lines(dir + "/control/rcpthosts");
  if (!r) return r.error();
  in.rcpthosts = std::move(*r);
  auto a = read_file(dir + "/users/assign", kMaxAssignBytes);
  if (!a && a.error().code() != ENOENT)
    return Error::sys(a.error().code(), "unable to read " + dir + "/users/assign");
  in.assign = a ? *a : ".\n";
  return in;
}

bool is_local_domain(const Inst& in, std::string_view domain) {
  if (domain == in.me) return true;
  return std::find(in.locals.begin(), in.locals.end(), domain) != in.locals.end();
}

Result<Where> where_of(const Inst& in, const Address& a) {
  if (is_local_domain(in, a.domain)) return Where{a.local, in.dir + "/home/" + a.local};
  auto prefix = vdom_prefix(in.vdoms, a.domain);
  if (!prefix || prefix->empty())
    return Error::perm(a.domain + " is not a domain of this instance (add it with "
                       "qmailctl adddomain " + a.domain + ")");
  return Where{*prefix + "-" + a.local, in.dir + "/home/" + a.domain + "/" + a.local};
}

// The exact users/assign entry for a qmail-send local part.
Result<std::optional<AssignEntry>> user_entry(const Inst& in, std::string_view qlocal) {
  auto entries = parse_assign(in.assign);
  if (!entries)
    return Error::perm("bad format in " + in.dir + "/users/assign: " + entries.error().message() +
                       " (qmailctl check tells more)");
  std::string want = lowercase(qlocal);
  for (auto& e : *entries)
    if (!e.wildcard && lowercase(e.local) == want) return std::optional<AssignEntry>(e);
  return std::optional<AssignEntry>();
}

bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// Rebuilds the compiled files and tells a running qmail-send.
int finish(const std::string& dir) {
  int code = compile_all(dir);
  if (code != kExitOk) return code;
  if (auto pid = running_send_pid(dir)) {
    if (::kill(*pid, SIGHUP) != 0) {
      warn("unable to send HUP to qmail-send (pid " + std::to_string(*pid) +
           "): run qmailctl reload");
    }
  }
  return kExitOk;
}

int refuse(const std::string& what) { return fatal(kExitPerm, what); }

// Makes dir with mode for owner (EEXIST as a directory is fine).
Status make_dir(const std::string& path, mode_t mode, const MailOwner& owner) {
  if (::mkdir(path.c_str(), mode) != 0) {
    if (errno != EEXIST) return Error::last("unable to mkdir " + path);
    struct stat st;
    if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      return Error::perm(path + " exists and is not a directory");
    return {};
  }
  if (auto st = give(path, owner); !st) return st;
  if (::chmod(path.c_str(), mode) != 0) return Error::last("unable to chmod " + path);
  return fsync_dir(dir_of(path));
}

// home and its Maildir/{tmp,new,cur}, mode 0700, owned by owner.
Status make_home(const std::string& home, const MailOwner& owner) {
  if (auto st = make_dir(home, 0700, owner); !st) return st;
  std::string md = home + "/Maildir";
  if (!exists(md)) {
    if (auto st = maildir_make(md); !st) return st;
    for (const char* sub : {"", "/tmp", "/new", "/cur"})
      if (auto st = give(md + sub, owner); !st) return st;
    if (auto st = fsync_dir(home); !st) return st;
  }
  return {};
}

// Removes a home under DIR/home/ (never anything else).
Status remove_home(const std::string& dir, const std::string& home) {
  std::string base = dir + "/home/";
  if (home.size() <= base.size() || home.compare(0, base.size(), base) != 0 ||
      home.find("/../") != std::string::npos)
    return Error::perm("not removing " + home + ": it is not under " + base);
  std::error_code ec;
  std::filesystem::remove_all(home, ec);
  if (ec) return Error::sys(ec.value(), "unable to remove " + home);
  return fsync_dir(dir_of(home));
}

// The address a users/assign local part stands for.
std::string address_of(const Inst& in, std::string_view qlocal) {
  for (const auto& l : in.vdoms) {
    auto key = vdom_key(l);
    if (!key || key->empty() || key->front() == '.' || key->find('@') != std::string::npos)
      continue;
    auto prefix = vdom_prefix(in.vdoms, *key);
    if (!prefix || prefix->empty()) continue;
    std::string p = lowercase(*prefix) + "-";
    if (qlocal.size() > p.size() && qlocal.compare(0, p.size(), p) == 0)
      return std::string(qlocal.substr(p.size())) + "@" + *key;
  }
  return std::string(qlocal) + "@" + in.me;
}

std::string alias_targets(std::string_view text) {
  std::string out;
  for (const auto& l : split_lines(text)) {
    if (l.empty() || l[0] == '#') continue;
    if (!out.empty()) out += ", ";
    out += l[0] == '&' ? l.substr(1) : l;
  }
  return out;
}

}  // namespace

int run_adddomain(const std::string& dir, const std::string& domain_arg) {
  std::string domain = lowercase(domain_arg);
  if (!valid_domain(domain)) return refuse("bad domain name " + domain_arg);
  auto in = open_inst(dir);
  if (!in) return fatal(in.error());
  if (is_local_domain(*in, domain))
    return refuse(domain + " is a local domain (control/me or control/locals): its users are "
                  "added without adddomain");
  for (const auto& l : in->vdoms)
    if (vdom_key(l) == domain) return refuse(domain + " is already in control/virtualdomains");
  auto owner = mail_owner(dir, true);
  if (!owner) return fatal(owner.error());
  if (auto st = make_dir(dir + "/home/" + domain, 0755, *owner); !st) return fatal(st.error());
  in->vdoms.push_back(domain + ":" + domain);
  if (auto st = replace_file(dir + "/control/virtualdomains", join_lines(in->vdoms)); !st)
    return fatal(st.error());
  bool listed = false;
  for (const auto& l : in->rcpthosts) listed = listed || line_is(l, domain);
  if (!listed) {
    in->rcpthosts.push_back(domain);
    if (auto st = replace_file(dir + "/control/rcpthosts", join_lines(in->rcpthosts)); !st)
      return fatal(st.error());
  }
  int code = finish(dir);
  if (code == kExitOk) say("adddomain: added virtual domain " + domain);
  return code;
}

int run_deldomain(const std::string& dir, const std::string& domain_arg, const ManageOptions& o) {
  std::string domain = lowercase(domain_arg);
  if (!valid_domain(domain)) return refuse("bad domain name " + domain_arg);
  auto in = open_inst(dir);
  if (!in) return fatal(in.error());
  auto prefix = vdom_prefix(in->vdoms, domain);
  if (!prefix || prefix->empty()) return refuse(domain + " is not a virtual domain");
  std::string p = lowercase(*prefix) + "-";

  auto entries = parse_assign(in->assign);
  if (!entries)
    return refuse("bad format in " + dir + "/users/assign: " + entries.error().message());
  std::vector<AssignEntry> users;
  for (const auto& e : *entries) {
    std::string l = lowercase(e.local);
    if (!e.wildcard && l.size() > p.size() && l.compare(0, p.size(), p) == 0) users.push_back(e);
  }
  auto aliases = list_dir(dir + "/alias");
  if (!aliases) return fatal(aliases.error());
  std::string alias_prefix = alias_file_name(p);
  std::vector<std::string> alias_files;
  for (const auto& n : *aliases)
    if (n.size() > alias_prefix.size() && n.compare(0, alias_prefix.size(), alias_prefix) == 0)
      alias_files.push_back(n);
  if ((!users.empty() || !alias_files.empty()) && !o.force)
    return refuse(domain + " still has " + std::to_string(users.size()) + " user(s) and " +
                  std::to_string(alias_files.size()) +
                  " alias(es): remove them with deluser, or give --force");

  std::string assign = in->assign;
  for (const auto& u : users) {
    size_t n = 0;
    assign = assign_remove(assign, u.local, &n);
    std::string addr = lowercase(u.local).substr(p.size()) + "@" + domain;
    if (auto st = remove_password(dir, addr); !st) return fatal(st.error());
  }
  if (!users.empty())
    if (auto st = replace_file(dir + "/users/assign", assign); !st) return fatal(st.error());
  for (const auto& n : alias_files)
    if (::unlink((dir + "/alias/" + n).c_str()) != 0 && errno != ENOENT)
      return fatal(Error::last("unable to remove " + dir + "/alias/" + n));

  std::vector<std::string> vdoms, rcpt;
  for (const auto& l : in->vdoms)
    if (vdom_key(l) != domain) vdoms.push_back(l);
  for (const auto& l : in->rcpthosts)
    if (!line_is(l, domain)) rcpt.push_back(l);
  if (auto st = replace_file(dir + "/control/virtualdomains", join_lines(vdoms)); !st)
    return fatal(st.error());
  if (auto st = replace_file(dir + "/control/rcpthosts", join_lines(rcpt)); !st)
    return fatal(st.error());
  std::string home = dir + "/home/" + domain;
  if (!o.keep_mail && exists(home))
    if (auto st = remove_home(dir, home); !st) return fatal(st.error());
  int code = finish(dir);
  if (code == kExitOk)
    say("deldomain: removed virtual domain " + domain +
        (o.keep_mail && exists(home) ? "; its mail stays in " + home : ""));
  return code;
}

int run_adduser(const std::string& dir, const std::string& address, const ManageOptions& o) {
  auto a = parse_address(address);
  if (!a) return refuse(a.error().message());
  std::optional<std::string> password;
  if (o.password_stdin) {
    auto line = read_password_line(0);
    if (!line || line->empty() || line->size() > kMaxPassword)
      return refuse("no usable password on standard input (one line of 1 to " +
                    std::to_string(kMaxPassword) + " bytes): nothing done");
    password = *line;
  }
  auto in = open_inst(dir);
  if (!in) return fatal(in.error());
  auto w = where_of(*in, *a);
  if (!w) return fatal(w.error());
  if (is_local_domain(*in, a->domain) && vdom_prefix(in->vdoms, a->local))
    return refuse(a->local + " is the name of a virtual domain; its home would clash");
  auto e = user_entry(*in, w->qlocal);
  if (!e) return fatal(e.error());
  if (*e) return refuse(a->text() + " exists already (users/assign line " +
                        std::to_string((*e)->line) + ")");
  if (exists(dir + "/alias/" + alias_file_name(w->qlocal)))
    return refuse(a->text() + " is an alias (alias/" + alias_file_name(w->qlocal) +
                  "); remove it with deluser first");
  auto owner = mail_owner(dir, true);
  if (!owner) return fatal(owner.error());
  if (!is_local_domain(*in, a->domain))
    if (auto st = make_dir(dir + "/home/" + a->domain, 0755, *owner); !st)
      return fatal(st.error());
  if (auto st = make_home(w->home, *owner); !st) return fatal(st.error());
  std::string line = assign_line(w->qlocal, owner->user, owner->uid, owner->gid, w->home);
  if (auto st = replace_file(dir + "/users/assign", assign_insert(in->assign, line)); !st)
    return fatal(st.error());
  if (password)
    if (auto st = set_password(dir, a->text(), *password); !st) return fatal(st.error());
  int code = finish(dir);
  if (code == kExitOk) say("adduser: added " + a->text() + ", mail in " + w->home + "/Maildir/");
  return code;
}

int run_deluser(const std::string& dir, const std::string& address, const ManageOptions& o) {
  auto a = parse_address(address);
  if (!a) return refuse(a.error().message());
  auto in = open_inst(dir);
  if (!in) return fatal(in.error());
  auto w = where_of(*in, *a);
  if (!w) return fatal(w.error());
  auto e = user_entry(*in, w->qlocal);
  if (!e) return fatal(e.error());
  std::string alias = dir + "/alias/" + alias_file_name(w->qlocal);
  if (!*e) {
    if (!exists(alias)) return refuse("no such user or alias: " + a->text());
    if (::unlink(alias.c_str()) != 0) return fatal(Error::last("unable to remove " + alias));
    if (auto st = fsync_dir(dir + "/alias"); !st) return fatal(st.error());
    int code = finish(dir);
    if (code == kExitOk) say("deluser: removed alias " + a->text());
    return code;
  }
  size_t n = 0;
  std::string assign = assign_remove(in->assign, w->qlocal, &n);
  if (auto st = replace_file(dir + "/users/assign", assign); !st) return fatal(st.error());
  if (auto st = remove_password(dir, a->text()); !st) return fatal(st.error());
  const std::string& home = (*e)->home;
  bool removed = false;
  if (!o.keep_mail && exists(home)) {
    if (auto st = remove_home(dir, home); !st)
      warn(st.error().message());
    else
      removed = true;
  }
  int code = finish(dir);
  if (code == kExitOk)
    say("deluser: removed " + a->text() + (removed ? " and " + home : "; its mail stays in " + home));
  return code;
}

int run_addalias(const std::string& dir, const std::string& address,
                 const std::vector<std::string>& targets) {
  auto a = parse_address(address);
  if (!a) return refuse(a.error().message());
  if (targets.empty()) return refuse("addalias needs at least one target address");
  for (const auto& t : targets)
    if (!valid_target(t)) return refuse("bad target address " + t);
  auto in = open_inst(dir);
  if (!in) return fatal(in.error());
  auto w = where_of(*in, *a);
  if (!w) return fatal(w.error());
  auto e = user_entry(*in, w->qlocal);
  if (!e) return fatal(e.error());
  if (*e) return refuse(a->text() + " is a user; forward its mail with " + (*e)->home + "/.qmail");
  std::string path = dir + "/alias/" + alias_file_name(w->qlocal);
  if (exists(path)) return refuse("alias " + a->text() + " exists already (" + path + ")");
  if (auto st = write_file_atomic(path, alias_file_text(targets), 0644); !st)
    return fatal(st.error());
  if (::geteuid() == 0) {
    struct stat st;
    if (::stat((dir + "/alias").c_str(), &st) != 0 || ::chown(path.c_str(), st.st_uid, st.st_gid) != 0)
      return fatal(Error::last("unable to chown " + path));
  }
  int code = finish(dir);
  if (code == kExitOk) say("addalias: " + a->text() + " forwards to " + alias_targets(alias_file_text(targets)));
  return code;
}

int run_listusers(const std::string& dir, const std::string& domain_arg) {
  std::string domain = lowercase(domain_arg);
  auto in = open_inst(dir);
  if (!in) return fatal(in.error());
  if (!domain.empty() && !is_local_domain(*in, domain) && !vdom_prefix(in->vdoms, domain))
    return refuse(domain + " is not a domain of this instance");
  auto entries = parse_assign(in->assign);
  if (!entries)
    return refuse("bad format in " + dir + "/users/assign: " + entries.error().message());
  std::map<std::string, std::string> out;  // address -> line
  auto wanted = [&](const std::string& addr) {
    if (domain.empty()) return true;
    std::string d = addr.substr(addr.rfind('@') + 1);
    return d == domain || (is_local_domain(*in, domain) && d == in->me);
  };
  for (const auto& e : *entries) {
    if (e.wildcard) continue;
    std::string addr = address_of(*in, lowercase(e.local));
    if (wanted(addr)) out[addr] = addr + " " + e.home;
  }
  auto names = list_dir(dir + "/alias");
  if (!names) return fatal(names.error());
  for (const auto& n : *names) {
    if (n.size() <= 7 || n.compare(0, 7, ".qmail-") != 0) continue;
    std::string local = n.substr(7);
    if (local.size() >= 7 && local.compare(local.size() - 7, 7, "default") == 0) continue;
    for (char& c : local)
      if (c == ':') c = '.';
    std::string addr = address_of(*in, local);
    if (!wanted(addr)) continue;
    auto text = read_file(dir + "/alias/" + n, kMaxListBytes);
    if (!text) return fatal(Error::sys(text.error().code(), "unable to read " + dir + "/alias/" + n));
    out[addr] = addr + " -> " + alias_targets(*text);
  }
  for (const auto& [addr, line] : out) say(line);
  return kExitOk;
}

}  // namespace qng::ctl
