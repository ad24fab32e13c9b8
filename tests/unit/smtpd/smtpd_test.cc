// smtpd_test.cc: qmail-smtpd's pieces: base64 and AUTH PLAIN, the
// checkpassword child and the Received line (the relay policy: lib/relaypolicy_test.cc).
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "../../../src/bin/qmail-smtpd/auth.h"
#include "../../../src/bin/qmail-smtpd/received.h"
#include "ip.h"

namespace qng::smtpd {
namespace {

using namespace std::string_literals;

TEST(SmtpdBase64, Decode) {
  struct Case {
    std::string in;
    std::optional<std::string> want;
  };
  const std::vector<Case> cases = {
      {"", ""},
      {"Zg==", "f"},
      {"Zm8=", "fo"},
      {"Zm9v", "foo"},
      {"AGpvZQBzZWNyZXQ=", "\0joe\0secret"s},
      {"Zm9", std::nullopt},      // not a multiple of 4
      {"Zg=a", std::nullopt},     // data after padding
      {"=Zm8", std::nullopt},
      {"Zm 9v", std::nullopt},
      {"Zm9v\r\n", std::nullopt},
      {"Z===", std::nullopt},
      {"Zm8=Zm8=", std::nullopt},  // padding before the end
  };
  for (const auto& c : cases) EXPECT_EQ(base64_decode(c.in), c.want) << c.in;
}

TEST(SmtpdAuthPlain, Parse) {
  auto c = parse_plain("\0joe\0secret"s);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->user, "joe");
  EXPECT_EQ(c->password, "secret");
  EXPECT_TRUE(parse_plain("joe\0joe\0pw"s));         // authzid = authcid
  EXPECT_FALSE(parse_plain("admin\0joe\0pw"s));      // no proxy logins
  EXPECT_FALSE(parse_plain("joe secret"s));
  EXPECT_FALSE(parse_plain("\0joe"s));
  EXPECT_FALSE(parse_plain("\0joe\0pw\0extra"s));
}

class Script {
 public:
  explicit Script(const std::string& body) {
    char tmpl[] = "/tmp/cpwtest.XXXXXX";
    int fd = ::mkstemp(tmpl);
    if (fd == -1) std::abort();
    ::close(fd);
    path_ = tmpl;
    std::ofstream(path_) << "#!/bin/sh\n" << body;
    ::chmod(path_.c_str(), 0755);
  }
  ~Script() { ::unlink(path_.c_str()); ::unlink((path_ + ".out").c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(SmtpdCheckpassword, ExitCodesAndFd3) {
  // The stand-in saves fd 3 and its arguments, and answers by the password.
  Script s(
      "cat <&3 > \"$0.out\"; echo \"$@\" >> \"$0.out\"\n"
      "case \"$(tr '\\0' ' ' < \"$0.out\")\" in\n"
      "  'joe right  '*) exit 0 ;;\n"
      "  'joe later  '*) exit 111 ;;\n"
      "  *) exit 1 ;;\n"
      "esac\n");
  EXPECT_EQ(run_checkpassword({s.path(), "arg"}, {"joe", "right"}, 10), CheckResult::kOk);
  std::ifstream f(s.path() + ".out");
  std::string got((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_EQ(got, "joe\0right\0\0arg /bin/true\n"s);
  EXPECT_EQ(run_checkpassword({s.path()}, {"joe", "wrong"}, 10), CheckResult::kBad);
  EXPECT_EQ(run_checkpassword({s.path()}, {"joe", "later"}, 10), CheckResult::kTemp);
  EXPECT_EQ(run_checkpassword({"/nonexistent/checkpassword"}, {"joe", "x"}, 10),
            CheckResult::kTemp);
}

TEST(SmtpdCheckpassword, HungProgramIsTemporary) {
  Script s("exec sleep 30\n");
  EXPECT_EQ(run_checkpassword({s.path()}, {"joe", "x"}, 1), CheckResult::kTemp);
}

TEST(SmtpdReceived, ProtocolNames) {
  EXPECT_EQ(protocol_name(false, false, false, false), "SMTP");
  EXPECT_EQ(protocol_name(true, false, false, false), "ESMTP");
  EXPECT_EQ(protocol_name(true, false, true, false), "ESMTPS");
  EXPECT_EQ(protocol_name(true, false, false, true), "ESMTPA");
  EXPECT_EQ(protocol_name(true, false, true, true), "ESMTPSA");
  EXPECT_EQ(protocol_name(false, false, true, false), "ESMTPS");
  EXPECT_EQ(protocol_name(true, true, false, false), "UTF8SMTP");
  EXPECT_EQ(protocol_name(true, true, true, true), "UTF8SMTPSA");
}

TEST(SmtpdReceived, QmailsLine) {
  ReceivedInfo r;
  r.remotehost = "mx.example.org";
  r.helo = "mx.example.org";
  r.remoteip = "192.0.2.7";
  r.localhost = "me.example.test";
  r.when = 1709456998;  // 3 Mar 2024 09:09:58
  EXPECT_EQ(received_line(r),
            "Received: from mx.example.org (192.0.2.7)\n"
            "  by me.example.test with SMTP; 3 Mar 2024 09:09:58 -0000\n");
  r.helo = "Bad Helo<x>";
  r.remoteinfo = "ident";
  r.ehlo = true;
  r.authenticated = true;
  r.tls_version = "TLS1.3";
  r.tls_cipher = "TLS_AES_256_GCM_SHA384";
  EXPECT_EQ(received_line(r),
            "Received: from mx.example.org (HELO Bad?Helo?x?) (ident@192.0.2.7)\n"
            "  by me.example.test with ESMTPSA (TLS1.3 cipher TLS_AES_256_GCM_SHA384); "
            "3 Mar 2024 09:09:58 -0000\n");
  r.helo = "MX.EXAMPLE.ORG";  // same name, other case: no HELO part
  r.tls_version.reset();
  EXPECT_EQ(received_line(r).rfind("Received: from mx.example.org (ident@192.0.2.7)\n  by ", 0),
            0u);
}

}  // namespace
}  // namespace qng::smtpd
