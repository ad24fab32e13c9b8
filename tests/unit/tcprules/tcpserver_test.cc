// tcpserver_test.cc: tcpserver's command line, listen addresses, client
// address text and the log-line sanitizer.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../../../src/bin/tcpserver/tcpserver.h"

namespace qng {
namespace {

const char* no_env(const char*) { return nullptr; }

TEST(TcpServerOptions, Defaults) {
  auto o = parse_server_options({"0", "25", "qmail-smtpd"}, no_env);
  ASSERT_TRUE(o.ok()) << o.error().message();
  EXPECT_EQ(o->host, "0");
  EXPECT_EQ(o->port, "25");
  EXPECT_EQ(o->program, std::vector<std::string>{"qmail-smtpd"});
  EXPECT_EQ(o->limit, 40u);
  EXPECT_EQ(o->per_ip, 0u);
  EXPECT_EQ(o->backlog, 20);
  EXPECT_EQ(o->verbosity, 1);
  EXPECT_FALSE(o->remote_host);  // -H is our default
  EXPECT_FALSE(o->remote_info);
  EXPECT_TRUE(o->kill_ip_options);
  EXPECT_FALSE(o->nodelay);
  EXPECT_EQ(o->uid, 0u);
  EXPECT_EQ(o->gid, 0u);
  EXPECT_FALSE(o->local_host.has_value());
}

TEST(TcpServerOptions, TheUsualQmailLine) {
  // As in life with qmail: tcpserver -v -R -l "$LOCAL" -x tcp.smtp.cdb -c 20
  //   -u 7791 -g 2108 0 smtp qmail-smtpd 2>&1
  auto o = parse_server_options({"-vRHl", "mx.example", "-x", "/etc/tcp.smtp.cdb", "-c20",
                                 "-u", "7791", "-g2108", "-C", "3", "-M", "421 busy\r\n",
                                 "0", "smtp", "qmail-smtpd", "-v", "arg"},
                                no_env);
  ASSERT_TRUE(o.ok()) << o.error().message();
  EXPECT_EQ(o->verbosity, 2);
  EXPECT_EQ(o->local_host, "mx.example");
  EXPECT_EQ(o->rules, "/etc/tcp.smtp.cdb");
  EXPECT_EQ(o->limit, 20u);
  EXPECT_EQ(o->uid, 7791u);
  EXPECT_EQ(o->gid, 2108u);
  EXPECT_EQ(o->per_ip, 3u);
  EXPECT_EQ(o->per_ip_text, "421 busy\r\n");
  EXPECT_EQ(o->port, "smtp");
  // Options after the program belong to the program.
  EXPECT_EQ(o->program, (std::vector<std::string>{"qmail-smtpd", "-v", "arg"}));
}

TEST(TcpServerOptions, FlagsAndEnvironment) {
  std::map<std::string, std::string> env = {{"UID", "1001"}, {"GID", "1002"}};
  auto getenv_fn = [&](const char* n) -> const char* {
    auto it = env.find(n);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  auto o = parse_server_options({"-146DhpXoqU", "-b", "5", "-t3", "-B", "hello", "-I", "eth0",
                                 "--", "::", "2525", "prog"},
                                getenv_fn);
  ASSERT_TRUE(o.ok()) << o.error().message();
  EXPECT_TRUE(o->print_port);
  EXPECT_EQ(o->family, AF_INET6);  // the last of -4 and -6 wins
  EXPECT_TRUE(o->nodelay);
  EXPECT_TRUE(o->remote_host);
  EXPECT_TRUE(o->paranoid);
  EXPECT_TRUE(o->allow_no_rules);
  EXPECT_FALSE(o->kill_ip_options);
  EXPECT_EQ(o->verbosity, 0);
  EXPECT_EQ(o->uid, 1001u);
  EXPECT_EQ(o->gid, 1002u);
  EXPECT_EQ(o->backlog, 5);
  EXPECT_EQ(o->timeout, 3u);
  EXPECT_EQ(o->banner, "hello");
  EXPECT_EQ(o->interface, "eth0");
  EXPECT_EQ(o->host, "::");
}

TEST(TcpServerOptions, UsageErrors) {
  const std::vector<std::vector<std::string>> bad = {
      {},
      {"0", "25"},
      {"-c", "0", "0", "25", "p"},
      {"-c", "x", "0", "25", "p"},
      {"-c"},
      {"-Z", "0", "25", "p"},
      {"-u", "-1", "0", "25", "p"},
      {"-b", "0", "0", "25", "p"},
      {"0", "25", ""},
  };
  for (const auto& args : bad) {
    auto o = parse_server_options(args, no_env);
    EXPECT_FALSE(o.ok()) << (args.empty() ? "(none)" : args[0]);
  }
}

TEST(TcpServerAddress, Ports) {
  EXPECT_EQ(*resolve_port("25"), 25);
  EXPECT_EQ(*resolve_port("0"), 0);
  EXPECT_EQ(*resolve_port("65535"), 65535);
  EXPECT_FALSE(resolve_port("65536").ok());
  EXPECT_FALSE(resolve_port("no-such-service-name").ok());
}

struct ListenCase {
  const char* host;
  int family;
  int want_family;
  const char* want_text;
};

TEST(TcpServerAddress, ListenAddresses) {
  const std::vector<ListenCase> cases = {
      {"0", AF_UNSPEC, AF_INET, "0.0.0.0"},
      {"", AF_UNSPEC, AF_INET, "0.0.0.0"},
      {"0", AF_INET6, AF_INET6, "::"},
      {"0.0.0.0", AF_UNSPEC, AF_INET, "0.0.0.0"},
      {"127.0.0.1", AF_UNSPEC, AF_INET, "127.0.0.1"},
      {"::", AF_UNSPEC, AF_INET6, "::"},
      {"[::1]", AF_UNSPEC, AF_INET6, "::1"},
      {"2001:DB8::1", AF_UNSPEC, AF_INET6, "2001:db8::1"},
  };
  for (const auto& c : cases) {
    auto a = resolve_listen_address(c.host, c.family, 2525);
    ASSERT_TRUE(a.ok()) << c.host;
    EXPECT_EQ(a->family(), c.want_family) << c.host;
    EXPECT_EQ(address_text(*a), c.want_text) << c.host;
    EXPECT_EQ(address_port(*a), 2525) << c.host;
  }
}

TEST(TcpServerAddress, MappedClientsLookLikeIpv4) {
  SocketAddress a;
  auto* sin6 = reinterpret_cast<struct sockaddr_in6*>(&a.ss);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(4321);
  ASSERT_EQ(inet_pton(AF_INET6, "::ffff:192.0.2.7", &sin6->sin6_addr), 1);
  a.len = sizeof *sin6;

  SocketAddress forced = a;
  unmap_v4(forced, true);
  EXPECT_EQ(forced.family(), AF_INET6);
  EXPECT_EQ(address_text(forced), "::ffff:192.0.2.7");

  unmap_v4(a, false);
  EXPECT_EQ(a.family(), AF_INET);
  EXPECT_EQ(address_text(a), "192.0.2.7");
  EXPECT_EQ(address_port(a), 4321);

  SocketAddress v6;
  auto* p = reinterpret_cast<struct sockaddr_in6*>(&v6.ss);
  p->sin6_family = AF_INET6;
  ASSERT_EQ(inet_pton(AF_INET6, "2001:db8::7", &p->sin6_addr), 1);
  v6.len = sizeof *p;
  unmap_v4(v6, false);
  EXPECT_EQ(address_text(v6), "2001:db8::7");
}

TEST(TcpServerLog, SafeText) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"mx.example.com", "mx.example.com"},
      {"", ""},
      {"::1", "??1"},
      {"a b%c\x01\x7f\xff", "a?b?c???"},
      {std::string(100, 'a'), std::string(100, 'a')},
      {std::string(101, 'a'), std::string(100, 'a') + "..."},
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(safe_log_text(in), want) << in;
  EXPECT_EQ(safe_log_text("2001:db8::1", true), "2001:db8::1");
}

}  // namespace
}  // namespace qng
