// auth.h: SMTP AUTH (RFC 4954) with PLAIN (RFC 4616) and LOGIN, checked
// through the checkpassword interface.
//
// control/checkpassword names the program (and its arguments, split at
// spaces; a relative path is relative to QMAILHOME). qmail-smtpd runs it as
// `program args... /bin/true` with fd 3 readable, carrying
// "user\0password\0\0" (an empty timestamp), fd 0 and 1 on /dev/null, fd 2
// inherited. Exit 0: the password is right; 1: wrong; anything else, or no
// answer within 60 seconds: a temporary failure (454 4.7.0).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qng::smtpd {

constexpr size_t kMaxCredentials = 1024;  // user + password bytes

// Strict base64 (RFC 4648): padding only at the end, no white space.
std::optional<std::string> base64_decode(std::string_view in);

struct Credentials {
  std::string user;
  std::string password;
};

// RFC 4616: [authzid] NUL authcid NUL passwd. An authorization identity
// other than the authentication identity is refused (no proxy logins).
std::optional<Credentials> parse_plain(std::string_view decoded);

enum class CheckResult { kOk, kBad, kTemp };

CheckResult run_checkpassword(const std::vector<std::string>& program, const Credentials& c,
                              int timeout_s);

}  // namespace qng::smtpd
