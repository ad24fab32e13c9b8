// showctl.cc: qmail-showctl's report (qmail's qmail-showctl.c, plus the
// control files qmail-ng adds).
#include "showctl.h"

#include <dirent.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>

#include <algorithm>
#include <set>
#include <vector>

#include "control.h"
#include "queue.h"
#include "spawn.h"

namespace qng::showctl {
namespace {

// Build-time settings qmail's showctl reports (conf-break, conf-patrn).
constexpr const char* kBreak = "-";
constexpr unsigned kPaternalism = 002;

// Unprintable bytes show as '?'.
std::string safe(const std::string& s) {
  std::string out = s;
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 32 || static_cast<unsigned char>(c) > 126) c = '?';
  return out;
}

class Report {
 public:
  Report(const Control& c, std::optional<std::string> me) : c_(c), me_(std::move(me)) {}

  std::string out;

  void head(const std::string& name) { out += "\n" + name + ": "; }

  // A one-line file; with use_me its default is control/me when that exists.
  void str(const std::string& name, bool use_me, const std::string& def, const std::string& pre,
           const std::string& post = "") {
    head(name);
    auto v = c_.line(name);
    if (!v) {
      out += "Oops! Trouble reading this file.\n";
      return;
    }
    if (*v) {
      out += pre + safe(**v) + post + ".\n";
      return;
    }
    out += "(Default.) " + pre + (use_me && me_ ? safe(*me_) : def) + post + ".\n";
  }

  // A number: its leading digits; none (or no file) means the default.
  void num(const std::string& name, const std::string& def, const std::string& pre,
           const std::string& post) {
    head(name);
    auto v = c_.line(name);
    if (!v) {
      out += "Oops! Trouble reading this file.\n";
      return;
    }
    std::string digits;
    if (*v)
      for (char ch : **v) {
        if (ch < '0' || ch > '9' || digits.size() >= 19) break;
        digits.push_back(ch);
      }
    if (digits.empty()) {
      out += "(Default.) " + pre + def + post + ".\n";
      return;
    }
    digits.erase(0, std::min(digits.find_first_not_of('0'), digits.size() - 1));
    out += pre + digits + post + ".\n";
  }

  // A list; returns whether the file exists.
  bool list(const std::string& name, const std::string& def, const std::string& pre,
            const std::string& post) {
    head(name);
    auto exists = c_.exists(name);
    auto lines = c_.lines(name);
    if (!exists || !lines) {
      out += "Oops! Trouble reading this file.\n";
      return false;
    }
    if (!*exists) {
      out += "(Default.) " + def + "\n";
      return false;
    }
    out += "\n";
    for (const auto& l : *lines) out += pre + safe(l) + post + "\n";
    return true;
  }

  // A compiled file beside its source.
  void compiled(const std::string& cdb, const std::string& source, const std::string& how) {
    out += "\n" + cdb + ": ";
    struct stat src {}, bin {};
    bool have_src = ::stat(c_.path(source).c_str(), &src) == 0;
    bool have_bin = ::stat(c_.path(cdb).c_str(), &bin) == 0;
    if (!have_src && !have_bin)
      out += "(Default.) No effect.\n";
    else if (!have_src)
      out += "Oops! " + cdb + " exists but " + source + " doesn't.\n";
    else if (!have_bin)
      out += "Oops! " + source + " exists but " + cdb + " doesn't. Run " + how + ".\n";
    else if (src.st_mtime > bin.st_mtime)
      out += "Oops! " + cdb + " is older than " + source + ". Run " + how + ".\n";
    else
      out += "Modified recently enough; hopefully up to date.\n";
  }

 private:
  const Control& c_;
  std::optional<std::string> me_;
};

std::string ids_line(const char* what, const std::vector<std::string>& names, const IdFn& fn) {
  std::vector<std::string> got;
  bool any = false;
  for (const auto& n : names) {
    auto id = fn ? fn(n) : std::nullopt;
    any = any || (id && n != "root");
    got.push_back(id ? std::to_string(*id) : "none");
  }
  std::string line = std::string(what) + ": ";
  if (!any) return line + "none (no qmail accounts here; an unprivileged instance runs as its owner).\n";
  for (size_t i = 0; i < got.size(); ++i) line += (i ? ", " : "") + got[i];
  return line + ".\n";
}

// The listeners and connection rules qmailctl manages.
struct Service {
  const char* name;
  const char* label;
};
constexpr Service kServices[] = {
    {"smtp", "SMTP"}, {"pop3", "POP3"}, {"qmtp", "QMTP"}, {"qmqp", "QMQP"}};

}  // namespace

Ids system_ids() {
  Ids ids;
  ids.user = [](const std::string& n) -> std::optional<unsigned long> {
    struct passwd* pw = ::getpwnam(n.c_str());
    if (!pw) return std::nullopt;
    return pw->pw_uid;
  };
  ids.group = [](const std::string& n) -> std::optional<unsigned long> {
    struct group* gr = ::getgrnam(n.c_str());
    if (!gr) return std::nullopt;
    return gr->gr_gid;
  };
  return ids;
}

std::string report(const std::string& home, const Ids& ids, bool& ok) {
  ok = true;
  std::string out;
  out += "qmail home directory: " + safe(home) + ".\n";
  out += std::string("user-ext delimiter: ") + kBreak + ".\n";
  out += "paternalism (in decimal): " + std::to_string(kPaternalism) + ".\n";
  out += "silent concurrency limit: " + std::to_string(kSpawnLimit) + ".\n";
  out += "subdirectory split: " + std::to_string(kQueueSplit) + ".\n";
  out += ids_line("user ids",
                  {"alias", "qmaild", "qmaill", "root", "qmailp", "qmailq", "qmailr", "qmails"},
                  ids.user);
  out += ids_line("group ids", {"nofiles", "qmail"}, ids.group);

  std::string dir = home + "/control";
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    ok = false;
    return out + "Oops! Unable to open " + safe(dir) + ".\n";
  }
  std::set<std::string> names;
  while (struct dirent* e = ::readdir(d)) names.insert(e->d_name);
  ::closedir(d);

  Control c(dir);
  auto me = c.line("me");
  if (!me) {
    ok = false;
    return out + "Oops! Trouble reading control/me.\n";
  }
  Report r(c, *me);

  r.list("badmailfrom", "Any MAIL FROM is allowed.", "", " not accepted in MAIL FROM.");
  r.str("bounceformat", false, "dsn", "Bounce format is ",
        " (dsn: RFC 3464 reports; qsbmf: qmail's plain text)");
  r.str("bouncefrom", false, "MAILER-DAEMON", "Bounce user name is ");
  r.str("bouncehost", true, "bouncehost", "Bounce host name is ");
  r.num("concurrencylocal", "10", "Local concurrency is ", "");
  r.num("concurrencyremote", "20", "Remote concurrency is ", "");
  r.num("databytes", "0", "SMTP DATA limit is ", " bytes");
  r.str("defaultdelivery", false, "./Maildir/", "Default delivery is ");
  r.str("defaultdomain", true, "defaultdomain", "Default domain name is ");
  r.str("defaulthost", true, "defaulthost", "Default host name is ");
  r.str("doublebouncehost", true, "doublebouncehost", "2B recipient host: ");
  r.str("doublebounceto", false, "postmaster", "2B recipient user: ");
  r.str("envnoathost", true, "envnoathost", "Presumed domain name is ");
  r.str("helohost", true, "helohost", "SMTP client HELO host name is ");
  r.str("idhost", true, "idhost", "Message-ID host name is ");
  r.str("localiphost", true, "localiphost", "Local IP address becomes ");
  r.list("locals", "Messages for me are delivered locally.", "Messages for ",
         " are delivered locally.");
  r.str("me", false, "undefined! Uh-oh", "My name is ");
  r.list("percenthack", "The percent hack is not allowed.",
         "The percent hack is allowed for user%host@", ".");
  r.str("plusdomain", true, "plusdomain", "Plus domain name is ");
  r.list("qmqpservers", "No QMQP servers.", "QMQP server: ", ".");
  r.num("queuelifetime", "604800", "Message lifetime in the queue is ", " seconds");

  r.head("rcptcheck");
  {
    auto v = c.line("rcptcheck");
    if (!v) {
      r.out += "Oops! Trouble reading this file.\n";
    } else {
      bool refuse = !*v || (*v)->empty() || (**v)[0] != '0';
      if (!*v) r.out += "(Default.) ";
      r.out += refuse ? "Unknown local recipients are refused at RCPT (550 5.1.1).\n"
                      : "Unknown local recipients are accepted and bounced later, as qmail "
                        "does.\n";
    }
  }

  if (r.list("rcpthosts", "SMTP clients may send messages to any recipient.",
             "SMTP clients may send messages to recipients at ", "."))
    r.list("morercpthosts", "No effect.", "SMTP clients may send messages to recipients at ",
           ".");
  else
    r.list("morercpthosts", "No rcpthosts; morercpthosts is irrelevant.",
           "No rcpthosts; doesn't matter that morercpthosts has ", ".");
  r.compiled("morercpthosts.cdb", "morercpthosts", "qmail-newmrh");

  r.head("servercert.pem");
  {
    auto has = c.exists("servercert.pem");
    if (!has)
      r.out += "Oops! Trouble reading this file.\n";
    else if (*has)
      r.out += "STARTTLS and implicit TLS use this certificate and key.\n";
    else
      r.out += "(Default.) No certificate: STARTTLS is not offered.\n";
  }

  r.str("smtpgreeting", true, "smtpgreeting", "SMTP greeting: 220 ");
  r.list("smtproutes", "No artificial SMTP routes.", "SMTP route: ", "");
  r.num("timeoutconnect", "60", "SMTP client connection timeout is ", " seconds");
  r.num("timeoutremote", "1200", "SMTP client data timeout is ", " seconds");
  r.num("timeoutsmtpd", "1200", "SMTP server data timeout is ", " seconds");
  r.list("virtualdomains", "No virtual domains.", "Virtual domain: ", "");

  std::set<std::string> shown = {
      ".", "..", "badmailfrom", "bounceformat", "bouncefrom", "bouncehost", "concurrencylocal",
      "concurrencyremote", "databytes", "defaultdelivery", "defaultdomain", "defaulthost",
      "doublebouncehost", "doublebounceto", "envnoathost", "helohost", "idhost", "localiphost",
      "locals", "me", "morercpthosts", "morercpthosts.cdb", "percenthack", "plusdomain",
      "qmqpservers", "queuelifetime", "rcptcheck", "rcpthosts", "servercert.pem",
      "smtpgreeting", "smtproutes", "timeoutconnect", "timeoutremote", "timeoutsmtpd",
      "virtualdomains"};

  // The listeners qmailctl starts, and their connection rules.
  for (const Service& s : kServices) {
    std::string listen = std::string("listen.") + s.name;
    std::string rules = std::string("tcp.") + s.name;
    if (names.count(listen))
      r.str(listen, false, "", std::string(s.label) + " listener address is ");
    if (names.count(rules))
      r.list(rules, "", std::string(s.label) + " connection rule: ", "");
    if (names.count(rules) || names.count(rules + ".cdb"))
      r.compiled(rules + ".cdb", rules, "qmailctl cdb");
    shown.insert({listen, rules, rules + ".cdb"});
  }

  for (const auto& n : names)
    if (!shown.count(n)) r.out += "\n" + safe(n) + ": I have no idea what this file does.\n";

  return out + r.out;
}

}  // namespace qng::showctl
