// output.cc: qmail-remote's records (output.h).
#include "output.h"

namespace qng::remote {

std::string perm_dns(std::string_view host) {
  return "DSorry, I couldn't find any host named " + safe(host) + ". (#5.1.2)\n";
}

std::string null_mx(std::string_view host) {
  return "DSorry, " + safe(host) + " does not accept mail (null MX). (#5.1.10)\n";
}

std::string safe(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    auto u = static_cast<unsigned char>(c);
    if (u < 33 || u > 126) c = '?';
  }
  return out;
}

std::string one_line(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c == '\n' || c == '\r' || c == '\0') c = ' ';
  return out;
}

std::string remote_said(std::string_view smtptext) {
  if (smtptext.empty()) return {};
  std::string out = "Remote host said: ";
  for (char c : smtptext) out.push_back(c == '\0' ? '?' : c);
  return out;
}

void Output::record(std::string_view text) {
  bytes_.append(text);
  bytes_.push_back('\0');
}

void Output::accepted() { record("r"); }

void Output::refused(bool permanent, std::string_view ip, std::string_view smtptext) {
  std::string t(1, permanent ? 'h' : 's');
  t.append(ip);
  t += " does not like recipient.\n";
  t += remote_said(smtptext);
  record(t);
}

void Output::finish(std::string_view text) {
  if (finished_) return;
  finished_ = true;
  record(text);
}

}  // namespace qng::remote
