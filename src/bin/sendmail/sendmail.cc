// sendmail.cc: the sendmail wrapper's option handling (qmail's sendmail.c).
//
// Options are getopt-style (grouped letters; an option's argument is the
// rest of its word or the next word; "--" ends them). -t reads recipients
// from the header (qmail-inject -H), otherwise qmail-inject -a takes them
// from the arguments. -f and -F set the sender and the full name; -bp and
// -bs run qmail-qread and qmail-smtpd at once; everything else sendmail
// users habitually pass (-bm -i -oX -B -m -e -p -v -x -E -J) is ignored.
#include "sendmail.h"

namespace qng::sendmail {

const char* const kUsage =
    "sendmail [ -t ] [ -fsender ] [ -Fname ] [ -bp ] [ -bs ] [ arg ... ]";

namespace {

bool takes_argument(char c) {
  switch (c) {
    case 'e': case 'f': case 'p': case 'o': case 'B': case 'F': case 'b':
      return true;
    default:
      return false;
  }
}

Plan smtpd(bool proto_set) {
  Plan p;
  p.what = Plan::kSmtpd;
  if (!proto_set) {
    p.env = {{"RELAYCLIENT", ""},           {"DATABYTES", "0"},
             {"PROTO", "TCP"},              {"TCPLOCALIP", "127.0.0.1"},
             {"TCPLOCALHOST", "localhost"}, {"TCPREMOTEIP", "127.0.0.1"},
             {"TCPREMOTEHOST", "localhost"}, {"TCPREMOTEINFO", "sendmail-bs"}};
  }
  return p;
}

Plan just(Plan::What what) {
  Plan p;
  p.what = what;
  return p;
}

// "<box@host>" -> "box@host"; "<>" -> "" (what MUAs pass for bounces).
std::string strip_brackets(const std::string& s) {
  if (s.size() >= 2 && s.front() == '<' && s.back() == '>') return s.substr(1, s.size() - 2);
  return s;
}

}  // namespace

Plan plan(std::string_view progname, const std::vector<std::string>& args, bool proto_set) {
  if (args.size() == 1 && args[0] == "--help") return just(Plan::kHelp);

  bool header = false;
  std::optional<std::string> sender;
  std::optional<std::string> name;
  size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a.size() < 2 || a[0] != '-') break;
    for (size_t k = 1; k < a.size(); ++k) {
      char c = a[k];
      std::string arg;
      if (takes_argument(c)) {
        if (k + 1 < a.size()) {
          arg = a.substr(k + 1);
        } else if (i + 1 < args.size()) {
          arg = args[++i];
        } else {
          return just(Plan::kUsage);
        }
        k = a.size();  // the rest of the word was the argument
      }
      switch (c) {
        case 't': header = true; break;
        case 'f': sender = strip_brackets(arg); break;
        case 'F': name = arg; break;
        case 'b':
          if (arg.empty()) return just(Plan::kUsage);
          switch (arg[0]) {
            case 'm': break;  // deliver mail: the only mode there is
            case 'p': return just(Plan::kQread);
            case 's': return smtpd(proto_set);
            default: return just(Plan::kUsage);
          }
          break;
        case 'E': case 'J':  // Sony NEWS-OS: an optional argument in the same word
          k = a.size();
          break;
        case 'B': case 'p': case 'o': case 'e':  // ignored, with their arguments
        case 'v': case 'i': case 'x': case 'm':  // ignored
          break;
        default:
          return just(Plan::kUsage);
      }
    }
  }

  if (progname == "mailq") return just(Plan::kQread);
  if (progname == "newaliases") return just(Plan::kNewaliases);

  Plan p;
  p.what = Plan::kInject;
  p.args.push_back(header ? "-H" : "-a");
  if (sender) {
    p.args.push_back("-f");
    p.args.push_back(*sender);
    // The sender's box and host become the From field (netqmail: -f beats
    // the environment's names and hosts).
    for (const char* v : {"QMAILNAME", "MAILNAME", "NAME", "QMAILHOST", "MAILHOST"})
      p.env.emplace_back(v, std::nullopt);
    if (!sender->empty()) {
      size_t at = sender->rfind('@');
      if (at == std::string::npos) {
        p.env.emplace_back("QMAILUSER", *sender);
      } else {
        p.env.emplace_back("QMAILHOST", sender->substr(at + 1));
        p.env.emplace_back("QMAILUSER", sender->substr(0, at));
      }
    }
  }
  if (name) {
    // -F names the sender, whatever the environment says.
    p.env.emplace_back("QMAILNAME", std::nullopt);
    p.env.emplace_back("MAILNAME", *name);
  }
  p.args.push_back("--");
  for (; i < args.size(); ++i) p.args.push_back(args[i]);
  return p;
}

}  // namespace qng::sendmail
