// check.cc: qmailctl check (check.h). What it reads, in order: control/
// (unknown names, list syntax, numbers, tcprules, certificate, DKIM keys,
// rcpthosts domains nothing delivers), users/assign (syntax, uids, homes),
// the alias user's and the users' .qmail files, and the compiled files'
// ages. It changes nothing.
#include "check.h"

#include <grp.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>
#include <set>

#include "assign.h"
#include "atomic.h"
#include "control.h"
#include "daemon.h"
#include "failure.h"
#include "fd.h"
#include "layout.h"
#include "manage.h"
#include "manage_files.h"
#include "say.h"
#include "size.h"
#include "tcprules.h"

namespace qng::ctl {

namespace {

constexpr size_t kMaxCheckedFile = 16u << 20;
constexpr long kExpirySoonSeconds = 14L * 24 * 3600;

constexpr const char* kKnownControl[] = {
    // qmail's (QMAIL-INTERFACES.md section 18)
    "me", "badmailfrom", "bouncefrom", "bouncehost", "concurrencylocal", "concurrencyremote",
    "databytes", "defaultdomain", "defaulthost", "doublebouncehost", "doublebounceto",
    "envnoathost", "helohost", "idhost", "localiphost", "locals", "morercpthosts",
    "morercpthosts.cdb", "percenthack", "plusdomain", "qmqpservers", "queuelifetime",
    "rcpthosts", "smtpgreeting", "smtproutes", "timeoutconnect", "timeoutremote", "timeoutsmtpd",
    "virtualdomains",
    // qmail-ng's
    "defaultdelivery", "rcptcheck", "bounceformat", "servercert.pem", "tlsca.pem", "tlspolicy",
    "authplaintext", "pop3plaintext", "checkpassword", "smtpauth", "concurrencyincoming",
    "concurrencyperip", "dnsservers", "maxbadcommands", "maxrcpt", "openrelay", "outgoingip",
    "timeoutsmtpdsession", "dkim",
    "listen.smtp", "listen.pop3", "listen.qmtp", "listen.qmqp",
    "listen.submission", "listen.smtps",
    "tcp.smtp", "tcp.pop3", "tcp.qmtp", "tcp.qmqp", "tcp.submission", "tcp.smtps",
    "tcp.smtp.cdb", "tcp.pop3.cdb", "tcp.qmtp.cdb", "tcp.qmqp.cdb",
    "tcp.submission.cdb", "tcp.smtps.cdb",
};

constexpr const char* kNumbers[] = {
    "concurrencylocal", "concurrencyremote", "databytes",   "queuelifetime",
    "timeoutconnect",   "timeoutremote",     "timeoutsmtpd", "timeoutsmtpdsession",
    "concurrencyincoming", "concurrencyperip", "maxrcpt",   "maxbadcommands",
};

constexpr const char* kSwitches[] = {"rcptcheck", "pop3plaintext", "authplaintext", "openrelay"};

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowercase(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = lower(c);
  return r;
}

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool is_digits(std::string_view s) { return parse_decimal(s).has_value(); }

void add(Findings& out, const std::string& file, size_t line, bool warning, std::string text) {
  out.push_back({file, line, warning, std::move(text)});
}

// Calls fn(lineno, line) for every line that is not blank or a comment,
// trailing spaces removed.
template <class Fn>
void each_line(std::string_view text, Fn fn) {
  size_t no = 0, pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = trim_right(text.substr(pos, nl - pos));
    pos = nl + 1;
    ++no;
    if (line.empty() || line.front() == '#') continue;
    fn(no, line);
  }
}

bool literal(std::string_view s) {
  if (s.size() < 3 || s.front() != '[' || s.back() != ']') return false;
  for (char c : s.substr(1, s.size() - 2))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
          c == '.' || c == ':'))
      return false;
  return true;
}

bool domain_or_suffix(std::string_view s, bool suffixes) {
  if (suffixes && s.size() > 1 && s.front() == '.') s.remove_prefix(1);
  return valid_domain(s) || literal(s);
}

bool valid_prepend(std::string_view s) {
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '.' || c == '_' || c == '-' || c == '+' || c == '='))
      return false;
  return true;
}

// Whether key (a control line's key) covers domain: the same, a suffix
// ".x" of it, or the empty catch-all.
bool key_covers(std::string_view key, std::string_view domain) {
  if (key.empty() || key == domain) return true;
  if (key.front() != '.') return false;
  std::string_view d = domain.front() == '.' ? domain.substr(1) : domain;
  return d.size() > key.size() && d.substr(d.size() - key.size()) == key;
}

std::string rel(const std::string& dir, const std::string& path) {
  if (path.size() > dir.size() + 1 && path.compare(0, dir.size(), dir) == 0 &&
      path[dir.size()] == '/')
    return path.substr(dir.size() + 1);
  return path;
}

}  // namespace

std::string format_finding(const Finding& f) {
  std::string s = f.file;
  if (f.line > 0) s += ":" + std::to_string(f.line);
  s += ": ";
  if (f.warning) s += "warning: ";
  return s + f.text;
}

bool known_control_name(std::string_view name) {
  for (const char* k : kKnownControl)
    if (name == k) return true;
  return false;
}

void check_domain_list(const std::string& file, std::string_view text, bool suffixes,
                       Findings& out) {
  each_line(text, [&](size_t no, std::string_view line) {
    if (!domain_or_suffix(line, suffixes))
      add(out, file, no, false, "not a domain name: \"" + std::string(line) + "\"");
  });
}

void check_virtualdomains(const std::string& file, std::string_view text, Findings& out) {
  std::set<std::string> seen;
  each_line(text, [&](size_t no, std::string_view line) {
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      add(out, file, no, false,
          "no colon: want DOMAIN:PREPEND (qmail-send ignores this line): \"" + std::string(line) +
              "\"");
      return;
    }
    std::string_view key = line.substr(0, colon);
    std::string_view prepend = line.substr(colon + 1);
    std::string_view dom = key;
    if (size_t at = key.rfind('@'); at != std::string_view::npos) {
      if (at == 0) {
        add(out, file, no, false, "empty user before @ in \"" + std::string(key) + "\"");
        return;
      }
      dom = key.substr(at + 1);
    }
    if (!key.empty() && !domain_or_suffix(dom, true))
      add(out, file, no, false, "not a domain name: \"" + std::string(key) + "\"");
    if (!valid_prepend(prepend))
      add(out, file, no, false,
          "bad prepend \"" + std::string(prepend) +
              "\": letters, digits and . _ - + = only (it becomes part of a local part)");
    if (!seen.insert(lowercase(key)).second)
      add(out, file, no, true, "\"" + std::string(key) + "\" listed again: this line wins");
  });
}

void check_smtproutes(const std::string& file, std::string_view text, Findings& out) {
  each_line(text, [&](size_t no, std::string_view line) {
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      add(out, file, no, false,
          "no colon: want DOMAIN:RELAY[:PORT]: \"" + std::string(line) + "\"");
      return;
    }
    std::string_view key = line.substr(0, colon);
    std::string_view relay = line.substr(colon + 1);
    if (!key.empty() && !domain_or_suffix(key, true))
      add(out, file, no, false, "not a domain name: \"" + std::string(key) + "\"");
    std::string_view port;
    if (!relay.empty() && relay.front() == '[') {
      size_t close = relay.find(']');
      if (close == std::string_view::npos) {
        add(out, file, no, false, "unclosed [ in relay \"" + std::string(relay) + "\"");
        return;
      }
      if (close + 1 < relay.size()) {
        if (relay[close + 1] != ':') {
          add(out, file, no, false, "bad relay \"" + std::string(relay) + "\"");
          return;
        }
        port = relay.substr(close + 2);
      }
      relay = relay.substr(0, close + 1);
    } else if (size_t c = relay.find(':'); c != std::string_view::npos) {
      port = relay.substr(c + 1);
      relay = relay.substr(0, c);
      if (port.find(':') != std::string_view::npos) port = "x";  // IPv6 needs brackets
    }
    if (!relay.empty() && !valid_domain(relay) && !literal(relay))
      add(out, file, no, false, "bad relay host \"" + std::string(relay) + "\"");
    if (!port.empty()) {
      auto p = parse_decimal(port, 65535);
      if (!p || *p == 0) add(out, file, no, false, "bad port \"" + std::string(port) + "\"");
    }
  });
}

void check_tcprules(const std::string& file, std::string_view text, Findings& out) {
  size_t no = 0, pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++no;
    if (line.size() > kRuleLineMax) {
      add(out, file, no, false, "line longer than " + std::to_string(kRuleLineMax) + " bytes");
      continue;
    }
    if (auto r = parse_rule_line(line); !r)
      add(out, file, no, false,
          "not a tcprules line (ADDRESS:allow|deny[,VAR=\"value\"]...): \"" +
              std::string(trim_right(line)) + "\"");
  }
}

void check_number(const std::string& file, std::string_view text, Findings& out) {
  std::string_view first = trim_right(text.substr(0, text.find('\n')));
  if (!is_digits(first))
    add(out, file, 1, false,
        "not a number: \"" + std::string(first) + "\" (the programs would use the default)");
}

void check_dot_qmail(const std::string& file, std::string_view text, bool executable,
                     Findings& out) {
  if (text.empty()) return;  // the default delivery
  size_t no = 0, pos = 0;
  size_t deliveries = 0;
  bool forward_only = executable;
  size_t forward_only_line = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++no;
    if (no == 1 && trim_right(line).empty())
      add(out, file, 1, true,
          "blank first line (the file is not empty, so the default delivery is not used)");
    if (line.empty() || line.front() == '#') continue;
    if (line == "+list") {
      forward_only = true;
      forward_only_line = no;
      continue;
    }
    if (line.front() == '+') continue;
    ++deliveries;
    bool program_or_file = line.front() == '|' || line.front() == '/' || line.front() == '.';
    if (program_or_file && forward_only)
      add(out, file, no, false,
          std::string(forward_only_line ? "after +list (line " + std::to_string(forward_only_line) +
                                              ")"
                                        : "in an executable (forward-only) file") +
              ", a program or file line fails every delivery");
  }
  if (deliveries == 0)
    add(out, file, 0, false, "no delivery instructions: mail to it is accepted and dropped");
}

bool delivered(std::string_view domain, const std::vector<std::string>& locals,
               const std::vector<std::string>& virtualdomains,
               const std::vector<std::string>& smtproutes) {
  std::string d = lowercase(domain);
  for (const auto& l : locals)
    if (lowercase(l) == d) return true;
  for (const auto* table : {&virtualdomains, &smtproutes}) {
    for (const auto& l : *table) {
      size_t colon = l.find(':');
      if (colon == std::string::npos) continue;
      std::string key = lowercase(std::string_view(l).substr(0, colon));
      if (key.find('@') != std::string::npos) continue;
      if (key_covers(key, d)) return true;
    }
  }
  return false;
}

namespace {

// The check of one instance, collecting findings.
class Checker {
 public:
  explicit Checker(std::string dir) : dir_(std::move(dir)), ctl_(dir_ + "/control") {}

  // false: the check cannot run (message printed).
  bool run() {
    struct stat st;
    if (::stat(dir_.c_str(), &st) != 0) {
      fatal(kExitTemp, "unable to stat " + dir_ + ": " + std::strerror(errno));
      return false;
    }
    system_ = st.st_uid == 0;
    owner_uid_ = st.st_uid;
    if (!system_) {
      auto o = mail_owner(dir_, false);
      if (o) owner_gid_ = o->gid;
    }
    auto names = list_dir(dir_ + "/control");
    if (!names) {
      fatal(names.error());
      return false;
    }
    control(*names);
    users();
    aliases();
    compiled();
    return true;
  }

  const Findings& findings() const { return out_; }

 private:
  void error(const std::string& path, size_t line, std::string text) {
    add(out_, rel(dir_, path), line, false, std::move(text));
  }
  void warning(const std::string& path, size_t line, std::string text) {
    add(out_, rel(dir_, path), line, true, std::move(text));
  }

  // The text of a file, or nullopt (missing: silently; unreadable: an error).
  std::optional<std::string> read(const std::string& path) {
    auto t = read_file(path, kMaxCheckedFile);
    if (t) return *t;
    if (t.error().code() != ENOENT) error(path, 0, "unable to read: " + t.error().message());
    return std::nullopt;
  }

  std::vector<std::string> list(const std::string& name) {
    auto l = ctl_.lines(name);
    return l ? *l : std::vector<std::string>{};
  }

  void control(const std::vector<std::string>& names) {
    for (const auto& n : names) {
      if (n.size() > 4 && n.compare(n.size() - 4, 4, ".tmp") == 0) {
        warning(ctl_.path(n), 0, "a temporary file left over by an interrupted write");
        continue;
      }
      if (!known_control_name(n)) warning(ctl_.path(n), 0, "unknown control file: no program reads it");
    }
    auto me = ctl_.line("me");
    if (!me || !*me || (*me)->empty()) error(ctl_.path("me"), 0, "missing or empty: every program needs it");

    for (const char* f : {"locals", "percenthack"})
      if (auto t = read(ctl_.path(f))) check_domain_list(rel(dir_, ctl_.path(f)), *t, false, out_);
    for (const char* f : {"rcpthosts", "morercpthosts"})
      if (auto t = read(ctl_.path(f))) check_domain_list(rel(dir_, ctl_.path(f)), *t, true, out_);
    if (auto t = read(ctl_.path("virtualdomains")))
      check_virtualdomains(rel(dir_, ctl_.path("virtualdomains")), *t, out_);
    if (auto t = read(ctl_.path("smtproutes")))
      check_smtproutes(rel(dir_, ctl_.path("smtproutes")), *t, out_);
    for (const Service& s : kServices)
      if (auto t = read(dir_ + "/" + s.rules)) check_tcprules(s.rules, *t, out_);
    for (const char* f : kNumbers)
      if (auto t = read(ctl_.path(f))) check_number(rel(dir_, ctl_.path(f)), *t, out_);
    for (const char* f : kSwitches) {
      if (auto t = read(ctl_.path(f))) {
        std::string_view v = trim_right(std::string_view(*t).substr(0, t->find('\n')));
        if (v != "0" && v != "1") error(ctl_.path(f), 1, "want 0 or 1, not \"" + std::string(v) + "\"");
      }
    }
    if (auto t = read(ctl_.path("bounceformat"))) {
      std::string_view v = trim_right(std::string_view(*t).substr(0, t->find('\n')));
      if (v != "dsn" && v != "qsbmf")
        error(ctl_.path("bounceformat"), 1, "want dsn or qsbmf, not \"" + std::string(v) + "\"");
    }
    rcpthosts_delivered();
    certificate();
    dkim_keys();
  }

  void rcpthosts_delivered() {
    auto locals = list("locals");
    if (auto me = ctl_.line("me"); me && *me && !(*me)->empty() && locals.empty())
      locals.push_back(**me);  // qmail-send: no locals file means me
    auto vd = list("virtualdomains");
    auto routes = list("smtproutes");
    for (const char* f : {"rcpthosts", "morercpthosts"}) {
      auto t = read(ctl_.path(f));
      if (!t) continue;
      each_line(*t, [&](size_t no, std::string_view line) {
        if (!domain_or_suffix(line, true)) return;  // reported above
        if (!delivered(line, locals, vd, routes))
          error(ctl_.path(f), no,
                std::string(line) +
                    " is accepted, but nothing delivers it: it is not in control/locals or "
                    "control/virtualdomains and has no control/smtproutes line (qmailctl "
                    "adddomain makes a virtual domain)");
      });
    }
  }

  void certificate() {
    std::string path = ctl_.path("servercert.pem");
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      if (errno != ENOENT) error(path, 0, std::string("unable to stat: ") + std::strerror(errno));
      return;  // no certificate: no STARTTLS, which is allowed
    }
    if (st.st_mode & S_IROTH) error(path, 0, "readable by everyone: its private key is not secret");
    auto text = read(path);
    if (!text) return;
    using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;
    Bio bio(BIO_new_mem_buf(text->data(), static_cast<int>(text->size())), BIO_free);
    if (!bio) return;
    std::unique_ptr<X509, decltype(&X509_free)> cert(
        PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
    if (!cert) {
      error(path, 0, "no PEM certificate in it (OpenSSL cannot parse it): STARTTLS will fail");
      return;
    }
    const ASN1_TIME* not_after = X509_get0_notAfter(cert.get());
    std::string when = time_text(not_after);
    if (X509_cmp_current_time(not_after) <= 0) {
      error(path, 0, "the certificate expired " + when + ": clients will refuse it");
    } else {
      time_t soon = ::time(nullptr) + kExpirySoonSeconds;
      if (X509_cmp_time(not_after, &soon) <= 0)
        warning(path, 0, "the certificate expires " + when + ", within 14 days: renew it");
    }
    Bio kbio(BIO_new_mem_buf(text->data(), static_cast<int>(text->size())), BIO_free);
    if (!kbio) return;
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
        PEM_read_bio_PrivateKey(kbio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
    if (!key) {
      error(path, 0, "no private key in it (put the key after the certificate)");
      return;
    }
    if (X509_check_private_key(cert.get(), key.get()) != 1)
      error(path, 0, "the private key does not match the certificate");
  }

  static std::string time_text(const ASN1_TIME* t) {
    std::unique_ptr<BIO, decltype(&BIO_free)> b(BIO_new(BIO_s_mem()), BIO_free);
    if (!b || ASN1_TIME_print(b.get(), t) != 1) return "(unknown date)";
    char* data = nullptr;
    long n = BIO_get_mem_data(b.get(), &data);
    return "on " + std::string(data, static_cast<size_t>(n > 0 ? n : 0));
  }

  void dkim_keys() {
    std::string base = ctl_.path("dkim");
    auto domains = list_dir(base);
    if (!domains) return;
    for (const auto& d : *domains) {
      auto keys = list_dir(base + "/" + d);
      if (!keys) continue;
      for (const auto& k : *keys) {
        if (k.size() <= 4 || k.compare(k.size() - 4, 4, ".key") != 0 || k[0] == '.') continue;
        std::string p = base + "/" + d + "/" + k;
        struct stat st;
        if (::stat(p.c_str(), &st) != 0) continue;
        if (st.st_mode & 077)
          error(p, 0, "mode " + octal(st.st_mode & 07777) +
                          ": a DKIM key must be 0600 (qmail-remote refuses it otherwise)");
      }
    }
  }

  static std::string octal(mode_t m) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m));
    return buf;
  }

  void users() {
    std::string path = dir_ + "/users/assign";
    auto text = read(path);
    if (!text) return;
    auto entries = parse_assign(*text);
    if (!entries) {
      // "line N: what"
      const std::string& m = entries.error().context();
      size_t line = 0;
      std::string what = m;
      if (m.rfind("line ", 0) == 0) {
        size_t colon = m.find(": ");
        if (auto n = parse_decimal(m.substr(5, colon - 5)); n && colon != std::string::npos) {
          line = *n;
          what = m.substr(colon + 2);
        }
      }
      error(path, line, what + " (want =local:user:uid:gid:home:dash:ext: lines and a final \".\")");
      return;
    }
    std::set<std::string> homes;
    for (const auto& e : *entries) {
      auto uid = parse_decimal(e.uid);
      auto gid = parse_decimal(e.gid);
      if (!uid || !gid) continue;
      if (*uid == 0) {
        error(path, e.line, "uid 0: qmail never delivers to root");
        continue;
      }
      if (system_) {
        if (!::getpwuid(static_cast<uid_t>(*uid)))
          error(path, e.line, "uid " + e.uid + " does not exist");
        if (!::getgrgid(static_cast<gid_t>(*gid)))
          error(path, e.line, "gid " + e.gid + " does not exist");
      } else {
        if (*uid != owner_uid_)
          error(path, e.line, "uid " + e.uid + " is not the instance owner's (" +
                                  std::to_string(owner_uid_) +
                                  "): qmail-lspawn will not deliver there");
        else if (owner_gid_ && *gid != *owner_gid_)
          warning(path, e.line, "gid " + e.gid + " is not the instance owner's (" +
                                    std::to_string(*owner_gid_) + ")");
      }
      struct stat st;
      if (::stat(e.home.c_str(), &st) != 0) {
        error(path, e.line, "home " + e.home + " does not exist");
        continue;
      }
      if (!S_ISDIR(st.st_mode)) {
        error(path, e.line, "home " + e.home + " is not a directory");
        continue;
      }
      if (st.st_uid != *uid) {
        error(path, e.line, "home " + e.home + " belongs to uid " + std::to_string(st.st_uid) +
                                ", not " + e.uid);
        continue;
      }
      if (st.st_mode & S_IWOTH) error(e.home, 0, "world-writable home: qmail-local defers every delivery");
      if (homes.insert(e.home).second) dot_qmails(e.home, static_cast<uid_t>(*uid), static_cast<gid_t>(*gid));
    }
  }

  void aliases() {
    std::string home = dir_ + "/alias";
    struct stat st;
    if (::stat(home.c_str(), &st) != 0) {
      error(home, 0, "missing: the alias user's home (postmaster) is gone");
      return;
    }
    dot_qmails(home, st.st_uid, st.st_gid);
  }

  // Every .qmail and .qmail-* file of a home, as qmail-local (uid, gid)
  // will read it.
  void dot_qmails(const std::string& home, uid_t uid, gid_t gid) {
    auto names = list_dir(home);
    if (!names) {
      error(home, 0, "unable to list: " + names.error().message());
      return;
    }
    for (const auto& n : *names) {
      if (n != ".qmail" && n.rfind(".qmail-", 0) != 0) continue;
      std::string p = home + "/" + n;
      struct stat st;
      if (::lstat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      if (st.st_mode & S_IWOTH) error(p, 0, "world-writable: qmail-local defers every delivery");
      bool readable = (st.st_uid == uid && (st.st_mode & S_IRUSR)) ||
                      (st.st_uid != uid && st.st_gid == gid && (st.st_mode & S_IRGRP)) ||
                      (st.st_uid != uid && st.st_gid != gid && (st.st_mode & S_IROTH));
      if (!readable)
        error(p, 0, "uid " + std::to_string(uid) + " cannot read it: every delivery fails");
      auto text = read(p);
      if (text) check_dot_qmail(rel(dir_, p), *text, (st.st_mode & S_IXUSR) != 0, out_);
    }
  }

  // A compiled file older than one of its sources (or missing).
  void stale(const std::string& db, const std::vector<std::string>& sources) {
    struct stat dst;
    bool have = ::stat((dir_ + "/" + db).c_str(), &dst) == 0;
    for (const auto& s : sources) {
      struct stat sst;
      if (::stat((dir_ + "/" + s).c_str(), &sst) != 0) continue;
      if (!have) {
        error(dir_ + "/" + db, 0, "missing, but " + s + " exists: run qmailctl cdb");
        return;
      }
      bool older = sst.st_mtim.tv_sec > dst.st_mtim.tv_sec ||
                   (sst.st_mtim.tv_sec == dst.st_mtim.tv_sec &&
                    sst.st_mtim.tv_nsec > dst.st_mtim.tv_nsec);
      if (older) {
        error(dir_ + "/" + db, 0, "older than " + s + ": run qmailctl cdb");
        return;
      }
    }
  }

  void compiled() {
    stale("users/cdb", {"users/assign"});
    stale("control/morercpthosts.cdb", {"control/morercpthosts"});
    for (const Service& s : kServices) stale(std::string(s.rules) + ".cdb", {s.rules});
    stale("users/recipients.cdb",
          {"users/assign", "control/locals", "control/virtualdomains", "control/me"});
  }

  std::string dir_;
  Control ctl_;
  bool system_ = false;
  uid_t owner_uid_ = 0;
  std::optional<gid_t> owner_gid_;
  Findings out_;
};

}  // namespace

int run_check(const std::string& dir) {
  if (auto st = check_instance(dir); !st) return fatal(kExitTemp, st.error().message());
  Checker c(dir);
  if (!c.run()) return kExitTemp;
  size_t errors = 0, warnings = 0;
  std::string text;
  for (const auto& f : c.findings()) {
    (f.warning ? warnings : errors)++;
    text += format_finding(f) + "\n";
  }
  if (errors == 0 && warnings == 0) {
    text = "OK\n";
  } else {
    text += "check: " + std::to_string(errors) + (errors == 1 ? " error, " : " errors, ") +
            std::to_string(warnings) + (warnings == 1 ? " warning\n" : " warnings\n");
  }
  if (auto st = write_all(1, text); !st) return kExitTemp;
  return errors ? 1 : kExitOk;
}

}  // namespace qng::ctl
