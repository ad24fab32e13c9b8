// settings.cc: qmail-inject's arguments, environment and control files.
#include "settings.h"


#include "fd.h"

namespace qng::inject {

const char* const kUsage = "qmail-inject [ -nNaAhH ] [ -fsender ] [ recip ... ]";

namespace {

Error usage() { return Error::perm(std::string("usage: ") + kUsage); }

std::optional<std::string> first_of(const EnvFn& env, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (const char* v = env(n)) return std::string(v);
  return std::nullopt;
}

}  // namespace

Result<Options> parse_args(const std::vector<std::string>& args) {
  Options o;
  size_t i = 0;
  if (args.size() == 1 && args[0] == "--help") {
    o.help = true;
    return o;
  }
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a.size() < 2 || a[0] != '-') break;
    for (size_t k = 1; k < a.size(); ++k) {
      switch (a[k]) {
        case 'a': o.mode = RecipientMode::kArgs; break;
        case 'A': o.mode = RecipientMode::kDefault; break;
        case 'h': o.mode = RecipientMode::kHeader; break;
        case 'H': o.mode = RecipientMode::kBoth; break;
        case 'n': o.queue = false; break;
        case 'N': o.queue = true; break;
        case 'f':
          if (k + 1 < a.size()) {
            o.sender = a.substr(k + 1);
          } else if (i + 1 < args.size()) {
            o.sender = args[++i];
          } else {
            return usage();
          }
          k = a.size();
          break;
        default:
          return usage();
      }
    }
  }
  for (; i < args.size(); ++i) o.recipients.push_back(args[i]);

  if (o.sender && o.sender->size() > kMaxArgument)
    return Error::perm("sender argument too long");
  if (o.recipients.size() > kMaxAddresses)
    return Error::perm("too many recipients (more than " + std::to_string(kMaxAddresses) + ")");
  for (const auto& r : o.recipients)
    if (r.size() > kMaxArgument) return Error::perm("recipient argument too long");
  return o;
}

Settings settings_from_env(const EnvFn& env) {
  Settings s;
  if (const char* q = env("QMAILINJECT")) {
    for (const char* p = q; *p; ++p) {
      switch (*p) {
        case 'c': s.name_comment = true; break;
        case 's': s.drop_return_path = true; break;
        case 'f': s.drop_from = true; break;
        case 'i': s.drop_message_id = true; break;
        case 'r': s.verp_recipient = true; break;
        case 'm': s.verp_message = true; break;
        default: break;  // qmail ignores other letters
      }
    }
  }
  s.mail_host = first_of(env, {"QMAILHOST", "MAILHOST"});
  s.sender_host = first_of(env, {"QMAILSHOST"});
  if (!s.sender_host) s.sender_host = s.mail_host;
  s.mail_user = first_of(env, {"QMAILUSER", "MAILUSER", "USER", "LOGNAME"}).value_or("anonymous");
  s.sender_user = first_of(env, {"QMAILSUSER"}).value_or(s.mail_user);
  s.full_name = first_of(env, {"QMAILNAME", "MAILNAME", "NAME"});
  return s;
}

Status read_controls(const Control& control, const EnvFn& env, Settings& s) {
  // Each defaults to control/me, else to its own name (qmail's control_rldef).
  auto value = [&](const char* name, const char* override_var) -> Result<std::string> {
    auto v = control.line_or(name, true, name);
    if (!v) return Error::temp("unable to read controls: " + v.error().message());
    if (const char* e = env(override_var)) return std::string(e);
    return v;
  };
  auto domain = value("defaultdomain", "QMAILDEFAULTDOMAIN");
  if (!domain) return domain.error();
  auto host = value("defaulthost", "QMAILDEFAULTHOST");
  if (!host) return host.error();
  auto plus = value("plusdomain", "QMAILPLUSDOMAIN");
  if (!plus) return plus.error();
  auto id = value("idhost", "QMAILIDHOST");
  if (!id) return id.error();

  auto rules = RewriteRules::make(*host, *domain, *plus);
  if (!rules) return rules.error();
  s.rules = std::move(*rules);
  s.idhost = std::move(*id);
  return {};
}

Status read_mft_file(const EnvFn& env, Settings& s) {
  const char* path = env("QMAILMFTFILE");
  if (!path || !*path) return {};
  std::string p(path);
  std::string dir = dir_of(p);
  size_t slash = p.rfind('/');
  std::string base = slash == std::string::npos ? p : p.substr(slash + 1);
  if (base.empty()) return {};
  auto lines = Control(dir).lines(base);
  if (!lines) return Error::temp("unable to read " + p + ": " + lines.error().message());
  auto exists = Control(dir).exists(base);
  if (!exists) return Error::temp("unable to read " + p + ": " + exists.error().message());
  if (!*exists) return {};
  s.mft = std::move(*lines);
  return {};
}

}  // namespace qng::inject
