// config.cc: qmail-smtpd's environment and control files.
#include <sys/stat.h>

#include <cstdlib>

#include "control.h"
#include "session.h"
#include "size.h"

namespace qng::smtpd {

namespace {

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (!v) return std::nullopt;
  return std::string(v);
}

// qmail's scan_ulong: the leading digits; none (or too many) gives 0.
uint64_t leading_number(const std::string& s) {
  size_t n = 0;
  while (n < s.size() && s[n] >= '0' && s[n] <= '9') ++n;
  return parse_decimal(std::string_view(s).substr(0, n)).value_or(0);
}

std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

}  // namespace

Result<Config> load_config(const std::string& home) {
  Config c;
  c.home = home;
  if (auto v = env("TCPREMOTEIP")) c.remoteip = *v;
  if (auto v = env("TCPREMOTEHOST")) c.remotehost = *v;
  c.remoteinfo = env("TCPREMOTEINFO");
  if (auto v = env("TCPLOCALHOST"))
    c.localhost = *v;
  else if (auto ip = env("TCPLOCALIP"))
    c.localhost = *ip;
  c.relayclient = env("RELAYCLIENT");
  c.smtps = env("SMTPS").has_value();
  c.submission = env("SUBMISSION").has_value();

  Control control(home + "/control");
  auto greeting = control.line_or("smtpgreeting", true, "");
  if (!greeting) return greeting.error();
  if (greeting->empty()) return Error::temp("neither control/smtpgreeting nor control/me");
  c.greeting = std::move(*greeting);

  auto timeout = control.number("timeoutsmtpd", 1200);
  if (!timeout) return timeout.error();
  c.timeout_s = static_cast<long long>(std::min<uint64_t>(*timeout, 86400 * 7));
  if (c.timeout_s <= 0) c.timeout_s = 1;  // qmail: <= 0 means 1
  auto session = control.number("timeoutsmtpdsession", 3600);
  if (!session) return session.error();
  c.session_s = static_cast<long long>(std::min<uint64_t>(*session, 86400 * 7));
  if (c.session_s <= 0) c.session_s = 3600;

  auto databytes = control.number("databytes", 0);
  if (!databytes) return databytes.error();
  c.databytes = *databytes;
  if (auto v = env("DATABYTES")) c.databytes = leading_number(*v);

  auto maxrcpt = control.number("maxrcpt", 100);
  if (!maxrcpt) return maxrcpt.error();
  c.maxrcpt = *maxrcpt == 0 ? 100 : static_cast<size_t>(std::min<uint64_t>(*maxrcpt, kMaxRcptHard));
  auto maxbad = control.number("maxbadcommands", 20);
  if (!maxbad) return maxbad.error();
  c.maxbad = static_cast<unsigned>(std::min<uint64_t>(*maxbad, 1000000));
  auto rcptcheck = control.number("rcptcheck", 1);
  if (!rcptcheck) return rcptcheck.error();
  c.rcptcheck = *rcptcheck != 0;
  auto plain = control.number("authplaintext", 0);
  if (!plain) return plain.error();
  c.authplaintext = *plain == 1;

  auto cp = control.line("checkpassword");
  if (!cp) return cp.error();
  if (*cp) {
    c.checkpassword = words(**cp);
    // A relative program is relative to QMAILHOME, our working directory.
    if (!c.checkpassword.empty() && c.checkpassword[0][0] != '/')
      c.checkpassword[0] = home + "/" + c.checkpassword[0];
  }
  // Only its existence is looked at here: a certificate that cannot be
  // loaded makes STARTTLS answer 454, it does not stop receiving mail.
  struct stat st;
  if (::stat(control.path("servercert.pem").c_str(), &st) == 0)
    c.certfile = control.path("servercert.pem");
  return c;
}

}  // namespace qng::smtpd
