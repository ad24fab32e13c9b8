// popup_test.cc: qmail-popup's authorization state over a socketpair, with a
// shell script as the checkpassword program: the fd 3 record, the hand-off
// of the connection (nothing read past PASS), how the child's end is told.
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "fd.h"
#include "popup.h"

namespace qng::pop3 {
namespace {

TEST(Popup, CapabilitiesGreetingTimestamp) {
  EXPECT_EQ(capabilities(true, false),
            "+OK capability list follows\r\nUSER\r\nTOP\r\nUIDL\r\nPIPELINING\r\nRESP-CODES\r\n"
            "IMPLEMENTATION qmail-ng\r\n.\r\n");
  EXPECT_EQ(capabilities(false, true),
            "+OK capability list follows\r\nTOP\r\nUIDL\r\nPIPELINING\r\nRESP-CODES\r\nSTLS\r\n"
            "IMPLEMENTATION qmail-ng\r\n.\r\n");
  EXPECT_EQ(greeting("mail.example.org"), "+OK mail.example.org ready\r\n");
  EXPECT_EQ(timestamp(123, 1700000000, "h.example"), "<123.1700000000@h.example>");
}

struct Outcome {
  int code = -1;
  std::string said;
};

// Runs qmail-popup's session on a socketpair with `script` as the child
// (sh -c), sends input and then end of input, collects everything said.
Outcome popup(const std::string& input, const std::string& script, bool plaintext_ok = true) {
  int sv[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  Fd client(sv[0]), server(sv[1]);
  PopupConfig config;
  config.hostname = "pop.example";
  config.child = {"/bin/sh", "-c", script};
  config.plaintext_ok = plaintext_ok;
  config.in_fd = config.out_fd = server.get();
  config.timeout_ms = 10000;
  Outcome o;
  std::thread t([&] {
    o.code = run_popup(config);
    ::shutdown(server.get(), SHUT_WR);
  });
  EXPECT_TRUE(write_all(client.get(), input));
  ::shutdown(client.get(), SHUT_WR);
  char buf[4096];
  for (;;) {
    auto n = read_some(client.get(), buf, sizeof buf);
    if (!n || *n == 0) break;
    o.said.append(buf, *n);
  }
  t.join();
  return o;
}

const std::string kHello = "+OK pop.example ready\r\n";

TEST(Popup, HandsTheCredentialsAndTheConnectionOn) {
  // The child prints fd 3 (NULs as LFs), then echoes what is left of the
  // connection: the pipelined STAT that qmail-popup must not have read.
  Outcome o = popup("CAPA\r\nUSER jo@x\r\nPASS  pass word\r\nSTAT\r\n",
                    "tr '\\000' '\\n' <&3; cat; exit 0");
  EXPECT_EQ(o.code, 0);
  const std::string head = kHello + capabilities(true, false) + "+OK \r\njo@x\npass word\n<";
  ASSERT_EQ(o.said.rfind(head, 0), 0u) << o.said;
  std::string rest = o.said.substr(head.size());
  EXPECT_NE(rest.find("@pop.example>\nSTAT\r\n"), std::string::npos) << rest;
  EXPECT_EQ(rest.substr(rest.size() - 6), "STAT\r\n");
}

TEST(Popup, TellsHowTheChildEnded) {
  struct Case {
    const char* script;
    int code;
    const char* tail;
  };
  const Case cases[] = {
      {"exit 1", 1, "-ERR authorization failed\r\n"},
      {"exit 111", 1, "-ERR authorization failed\r\n"},
      {"kill -SEGV $$", 1, "-ERR aack, child crashed\r\n"},
      {"echo '+OK '; exit 0", 0, "+OK \n"},
  };
  for (const auto& c : cases) {
    Outcome o = popup("USER jo\r\nPASS pw\r\n", c.script);
    EXPECT_EQ(o.code, c.code) << c.script;
    EXPECT_EQ(o.said, kHello + "+OK \r\n" + c.tail) << c.script;
  }
}

TEST(Popup, AuthorizationState) {
  Outcome o = popup(
      "STAT\r\nPASS x\r\nUSER\r\nuser\r\nPASS\r\nAPOP jo abc\r\nSTLS\r\nNOOP\r\nQUIT\r\nNOOP\r\n",
      "exit 1");
  EXPECT_EQ(o.code, 0);
  EXPECT_EQ(o.said, kHello +
                        "-ERR authorization first\r\n"
                        "-ERR USER first\r\n"
                        "-ERR syntax error\r\n"
                        "-ERR syntax error\r\n"
                        "-ERR USER first\r\n"
                        "-ERR unimplemented\r\n"
                        "-ERR authorization first\r\n"  // no certificate: no STLS
                        "+OK \r\n"
                        "+OK \r\n");
}

TEST(Popup, PlaintextRefusedUnlessAllowed) {
  Outcome o = popup("CAPA\r\nUSER jo\r\nPASS pw\r\n", "exit 0", false);
  EXPECT_EQ(o.code, 1);  // end of input
  EXPECT_EQ(o.said, kHello + capabilities(false, false) +
                        "-ERR [AUTH] TLS required\r\n-ERR [AUTH] TLS required\r\n");
}

TEST(Popup, Bounds) {
  std::string many;
  for (size_t i = 0; i < kMaxAuthCommands + 5; ++i) many += "NOOP\r\n";
  Outcome o = popup(many, "exit 0");
  EXPECT_EQ(o.code, 1);
  std::string want = kHello;
  for (size_t i = 0; i < kMaxAuthCommands; ++i) want += "+OK \r\n";
  EXPECT_EQ(o.said, want + "-ERR too many commands\r\n");

  o = popup("USER " + std::string(kMaxCommandLine, 'u') + "\r\n", "exit 0");
  EXPECT_EQ(o.code, 1);
  EXPECT_EQ(o.said, kHello + "-ERR command too long\r\n");
}

}  // namespace
}  // namespace qng::pop3
