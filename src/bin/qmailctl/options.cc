// options.cc: qmailctl's command line.
#include "options.h"

#include <utility>

#include "size.h"

namespace qng::ctl {

const char kUsage[] =
    "usage: qmailctl [-d DIR] COMMAND [ARGS]\n"
    "\n"
    "  init DIR [--me NAME] [--smtp HOST:PORT] [--pop3 HOST:PORT]\n"
    "           [--qmtp HOST:PORT] [--qmqp HOST:PORT]\n"
    "           [--submission HOST:PORT] [--smtps HOST:PORT]\n"
    "                     create an instance owned by the invoking user;\n"
    "                     --submission: qmail-smtpd requiring AUTH (port 587),\n"
    "                     --smtps: qmail-smtpd with implicit TLS (port 465)\n"
    "  init --system [DIR] [--me NAME] [--smtp HOST:PORT] ...\n"
    "                     as root: the system instance (default /var/qmail)\n"
    "                     with qmail's users, owners and modes\n"
    "  start | stop | restart\n"
    "                     start or stop qmail-send and the listeners of\n"
    "                     control/listen.smtp, .pop3, .qmtp, .qmqp, .submission,\n"
    "                     .smtps (tcpserver)\n"
    "  stat               one line per service, then the queue counts\n"
    "  queue              what qmail-qstat and qmail-qread print\n"
    "  doqueue            retry every queued message now (ALRM to qmail-send)\n"
    "  reload             qmail-send re-reads its control files (HUP)\n"
    "  cdb                rebuild users/cdb, control/morercpthosts.cdb,\n"
    "                     control/tcp.*.cdb and users/recipients.cdb\n"
    "  passwd ADDRESS     set a user's password, read as one line from standard input\n"
    "  dkim-keygen DOMAIN [SELECTOR] [--rsa|--ed25519]\n"
    "                     make a DKIM signing key (RSA 2048, selector default;\n"
    "                     Ed25519, selector ed25519) and print its DNS TXT record\n"
    "  check              read every control file, users/assign, the .qmail files,\n"
    "                     the certificate and the compiled files; print each problem\n"
    "                     as FILE:LINE: problem (exit 0 fine, 1 errors, 111 cannot check)\n"
    "  adddomain DOMAIN   make DOMAIN a virtual domain (virtualdomains DOMAIN:DOMAIN,\n"
    "                     rcpthosts)\n"
    "  deldomain DOMAIN [--force] [--keep-mail]\n"
    "                     remove a virtual domain (--force: with its users and aliases)\n"
    "  adduser ADDRESS [--password-stdin]\n"
    "                     a mailbox DIR/home/DOMAIN/LOCAL/Maildir (DIR/home/LOCAL for\n"
    "                     control/me); the password, if asked, from standard input\n"
    "  deluser ADDRESS [--keep-mail]\n"
    "                     remove a user (and its Maildir unless --keep-mail) or an alias\n"
    "  addalias ADDRESS TARGET...\n"
    "                     forward ADDRESS to the targets (a .qmail file in alias/)\n"
    "  listusers [DOMAIN] the users (with their homes) and aliases (-> targets)\n"
    "\n"
    "DIR is the instance: -d DIR, else $QMAILHOME, else /var/qmail.\n"
    "Exit codes: 0 done, 100 usage or permanent error, 111 temporary failure.\n";

namespace {

struct CommandName {
  const char* name;
  Command command;
};

constexpr CommandName kCommands[] = {
    {"init", Command::kInit},     {"start", Command::kStart},
    {"stop", Command::kStop},     {"restart", Command::kRestart},
    {"stat", Command::kStat},     {"queue", Command::kQueue},
    {"doqueue", Command::kDoqueue}, {"reload", Command::kReload},
    {"cdb", Command::kCdb},       {"passwd", Command::kPasswd},
    {"dkim-keygen", Command::kDkimKeygen}, {"check", Command::kCheck},
    {"adddomain", Command::kAddDomain}, {"deldomain", Command::kDelDomain},
    {"adduser", Command::kAddUser},   {"deluser", Command::kDelUser},
    {"addalias", Command::kAddAlias}, {"listusers", Command::kListUsers},
};

Error usage(std::string what);

// The flags each management command takes.
struct Flag {
  Command command;
  const char* name;
  bool Options::*field;
};

constexpr Flag kFlags[] = {
    {Command::kDelDomain, "--force", &Options::force},
    {Command::kDelDomain, "--keep-mail", &Options::keep_mail},
    {Command::kDelUser, "--keep-mail", &Options::keep_mail},
    {Command::kAddUser, "--password-stdin", &Options::password_stdin},
};

// The management commands' arguments: flags from kFlags, then between
// min_args and max_args words.
Status parse_manage(const std::vector<std::string>& argv, size_t i, const std::string& name,
                    size_t min_args, size_t max_args, Options& o) {
  for (; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    bool flag = false;
    for (const Flag& f : kFlags) {
      if (f.command == o.command && a == f.name) {
        o.*(f.field) = true;
        flag = true;
      }
    }
    if (flag) continue;
    if (a.size() > 1 && a[0] == '-') return usage("unknown option for " + name + ": " + a);
    o.args.push_back(a);
  }
  if (o.args.size() < min_args || o.args.size() > max_args) {
    if (min_args == max_args)
      return usage(name + " takes " + (min_args == 0 ? "no arguments" : min_args == 1 ? "one argument" : "arguments"));
    return usage(name + ": wrong number of arguments");
  }
  return {};
}

constexpr const char* kListenerServices[] = {"smtp", "pop3", "qmtp", "qmqp", "submission", "smtps"};

bool is_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '-' || c == '_';
}

bool is_ipv6_char(char c) {
  return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || (c >= '0' && c <= '9') ||
         c == ':' || c == '.';
}

Error usage(std::string what) { return Error::perm(std::move(what)); }

// init's arguments; DIR may also have come from -d.
Status parse_init(const std::vector<std::string>& argv, size_t i, Options& o) {
  std::optional<std::string> dir;
  for (; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--system") {
      o.system = true;
      continue;
    }
    if (a == "--me") {
      if (i + 1 >= argv.size()) return usage("--me needs a host name");
      o.me = argv[++i];
      if (!valid_me(*o.me)) return usage("bad host name for --me: " + *o.me);
      continue;
    }
    bool listener = false;
    for (const char* svc : kListenerServices) {
      if (a != std::string("--") + svc) continue;
      listener = true;
      if (i + 1 >= argv.size()) return usage(a + " needs HOST:PORT");
      auto hp = parse_host_port(argv[++i]);
      if (!hp) return usage(a + ": " + hp.error().context());
      for (const auto& l : o.listeners)
        if (l.service == svc) return usage(a + " given twice");
      o.listeners.push_back({svc, *hp});
    }
    if (listener) continue;
    if (a.size() > 1 && a[0] == '-') return usage("unknown option for init: " + a);
    if (dir) return usage("init takes one directory");
    if (a.empty()) return usage("empty directory name");
    dir = a;
  }
  if (dir && o.dir && *dir != *o.dir) return usage("two directories: -d " + *o.dir + " and " + *dir);
  if (dir) o.dir = dir;
  if (o.system && !o.dir) o.dir = "/var/qmail";
  if (!o.dir) return usage("init needs a directory");
  return {};
}

}  // namespace

std::string HostPort::text() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

Result<HostPort> parse_host_port(std::string_view s) {
  if (s.size() > 300) return Error::perm("address too long");
  size_t colon = s.rfind(':');
  if (colon == std::string_view::npos) return Error::perm("want HOST:PORT, not " + std::string(s));
  std::string_view host = s.substr(0, colon);
  std::string_view port = s.substr(colon + 1);
  auto p = parse_decimal(port, 65535);
  if (!p || *p == 0) return Error::perm("bad port in " + std::string(s));
  HostPort hp;
  hp.port = static_cast<unsigned>(*p);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    if (host.empty() || host.find(':') == std::string_view::npos)
      return Error::perm("bad IPv6 address in " + std::string(s));
    for (char c : host)
      if (!is_ipv6_char(c)) return Error::perm("bad IPv6 address in " + std::string(s));
  } else {
    if (host.empty()) return Error::perm("missing host in " + std::string(s));
    for (char c : host)
      if (!is_host_char(c)) return Error::perm("bad host in " + std::string(s));
  }
  hp.host = std::string(host);
  return hp;
}

bool valid_me(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  if (name.front() == '[') {  // an address literal, [1.2.3.4]
    if (name.back() != ']' || name.size() < 3) return false;
    for (char c : name.substr(1, name.size() - 2))
      if (!is_ipv6_char(c)) return false;
    return true;
  }
  if (name.front() == '.' || name.front() == '-') return false;
  for (char c : name)
    if (!is_host_char(c)) return false;
  return true;
}

Result<Options> parse_args(const std::vector<std::string>& argv) {
  Options o;
  size_t i = 1;
  for (; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "-d") {
      if (i + 1 >= argv.size()) return usage("-d needs a directory");
      o.dir = argv[++i];
      if (o.dir->empty()) return usage("empty directory name");
      continue;
    }
    if (a.rfind("-d", 0) == 0 && a.size() > 2) {  // -dDIR
      o.dir = a.substr(2);
      continue;
    }
    if (a == "--help" || a == "-h" || a == "help") {
      o.command = Command::kHelp;
      return o;
    }
    if (a == "--") continue;
    break;
  }
  if (i >= argv.size()) return usage("no command given");
  const std::string& name = argv[i];
  bool found = false;
  for (const auto& c : kCommands) {
    if (name == c.name) {
      o.command = c.command;
      found = true;
    }
  }
  if (!found) return usage("unknown command: " + name);
  ++i;
  for (size_t j = i; j < argv.size(); ++j)
    if (argv[j] == "--help" || argv[j] == "-h") {
      o.command = Command::kHelp;
      return o;
    }
  switch (o.command) {
    case Command::kInit:
      if (auto st = parse_init(argv, i, o); !st) return st.error();
      return o;
    case Command::kPasswd:
      if (argv.size() - i != 1) return usage("passwd takes one address");
      o.args.assign(argv.begin() + static_cast<long>(i), argv.end());
      return o;
    case Command::kDkimKeygen: {
      bool algo = false;
      for (; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (a == "--rsa" || a == "--ed25519") {
          if (algo) return usage("dkim-keygen takes one of --rsa and --ed25519");
          algo = true;
          o.ed25519 = a == "--ed25519";
        } else if (a.size() > 1 && a[0] == '-') {
          return usage("unknown option for dkim-keygen: " + a);
        } else {
          o.args.push_back(a);
        }
      }
      if (o.args.empty() || o.args.size() > 2)
        return usage("dkim-keygen takes a domain and optionally a selector");
      return o;
    }
    case Command::kAddDomain:
    case Command::kDelDomain:
    case Command::kAddUser:
    case Command::kDelUser:
      if (auto st = parse_manage(argv, i, name, 1, 1, o); !st) return st.error();
      return o;
    case Command::kAddAlias:
      if (auto st = parse_manage(argv, i, name, 2, 1000, o); !st) return st.error();
      return o;
    case Command::kListUsers:
      if (auto st = parse_manage(argv, i, name, 0, 1, o); !st) return st.error();
      return o;
    default:
      if (i != argv.size()) return usage(name + " takes no arguments");
      return o;
  }
}

}  // namespace qng::ctl
