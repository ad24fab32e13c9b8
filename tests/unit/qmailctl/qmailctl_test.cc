// qmailctl_test.cc: qmailctl's parsing: arguments, HOST:PORT, config-fast's
// domains, pid files, /proc stat lines, qmail-newmrh lines, the layout, and
// the tcpserver command line of each listener.
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../../../src/bin/qmailctl/layout.h"
#include "../../../src/bin/qmailctl/listener.h"
#include "../../../src/bin/qmailctl/options.h"
#include "../../../src/bin/qmailctl/proc.h"
#include "morercpthosts.h"

namespace qng::ctl {
namespace {

TEST(QmailctlHostPort, Table) {
  struct Case {
    const char* in;
    const char* host;  // nullptr: refused
    unsigned port;
    const char* text;
  };
  const Case cases[] = {
      {"127.0.0.1:2525", "127.0.0.1", 2525, "127.0.0.1:2525"},
      {"0.0.0.0:25", "0.0.0.0", 25, "0.0.0.0:25"},
      {"localhost:65535", "localhost", 65535, "localhost:65535"},
      {"[::1]:2110", "::1", 2110, "[::1]:2110"},
      {"[fe80::1]:1", "fe80::1", 1, "[fe80::1]:1"},
      {"127.0.0.1:0", nullptr, 0, ""},
      {"127.0.0.1:65536", nullptr, 0, ""},
      {"127.0.0.1:", nullptr, 0, ""},
      {":25", nullptr, 0, ""},
      {"127.0.0.1", nullptr, 0, ""},
      {"::1:25", nullptr, 0, ""},
      {"[]:25", nullptr, 0, ""},
      {"[1.2.3.4]:25", nullptr, 0, ""},
      {"a b:25", nullptr, 0, ""},
      {"host\n:25", nullptr, 0, ""},
      {"127.0.0.1:+25", nullptr, 0, ""},
      {"127.0.0.1:2x", nullptr, 0, ""},
  };
  for (const auto& c : cases) {
    auto hp = parse_host_port(c.in);
    if (!c.host) {
      EXPECT_FALSE(hp.ok()) << c.in;
      continue;
    }
    ASSERT_TRUE(hp.ok()) << c.in << ": " << hp.error().message();
    EXPECT_EQ(hp->host, c.host) << c.in;
    EXPECT_EQ(hp->port, c.port) << c.in;
    EXPECT_EQ(hp->text(), c.text) << c.in;
  }
}

TEST(QmailctlValidMe, Table) {
  struct Case {
    const char* in;
    bool ok;
  };
  const Case cases[] = {
      {"example.test", true}, {"localhost", true}, {"mail.example.com", true},
      {"a-b_c.d", true},      {"[127.0.0.1]", true}, {"", false},
      {"a b", false},         {"a/b", false},      {"a@b", false},
      {"a:b", false},         {"x\n", false},      {"-x", false},
      {".x", false},          {"[1.2.3.4", false},
  };
  for (const auto& c : cases) EXPECT_EQ(valid_me(c.in), c.ok) << c.in;
}

TEST(QmailctlConfigFast, Domains) {
  struct Case {
    const char* me;
    const char* defaultdomain;
    const char* plusdomain;
  };
  const Case cases[] = {
      {"localhost", "localhost", "localhost"},
      {"example.test", "example.test", "example.test"},
      {"mail.example.com", "example.com", "example.com"},
      {"a.b.c.d", "b.c.d", "c.d"},
      {"a.b.", "b.", "b."},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(default_domain_of(c.me), c.defaultdomain) << c.me;
    EXPECT_EQ(plus_domain_of(c.me), c.plusdomain) << c.me;
  }
}

Result<Options> parse(std::vector<std::string> v) {
  v.insert(v.begin(), "qmailctl");
  return parse_args(v);
}

TEST(QmailctlArgs, Commands) {
  struct Case {
    std::vector<std::string> args;
    Command command;
    const char* dir;  // nullptr: none
  };
  const Case cases[] = {
      {{"--help"}, Command::kHelp, nullptr},
      {{"-d", "/x", "start"}, Command::kStart, "/x"},
      {{"-d/x", "stop"}, Command::kStop, "/x"},
      {{"stat"}, Command::kStat, nullptr},
      {{"-d", "/x", "restart"}, Command::kRestart, "/x"},
      {{"-d", "/x", "queue"}, Command::kQueue, "/x"},
      {{"-d", "/x", "doqueue"}, Command::kDoqueue, "/x"},
      {{"-d", "/x", "reload"}, Command::kReload, "/x"},
      {{"-d", "/x", "cdb"}, Command::kCdb, "/x"},
      {{"-d", "/x", "passwd", "a@b"}, Command::kPasswd, "/x"},
      {{"stat", "--help"}, Command::kHelp, nullptr},
      {{"-d", "/x", "dkim-keygen", "example.com"}, Command::kDkimKeygen, "/x"},
  };
  for (const auto& c : cases) {
    auto o = parse(c.args);
    ASSERT_TRUE(o.ok()) << c.args[0] << ": " << o.error().context();
    EXPECT_EQ(o->command, c.command) << c.args[0];
    if (c.dir) {
      EXPECT_EQ(o->dir, std::optional<std::string>(c.dir));
    } else {
      EXPECT_FALSE(o->dir);
    }
  }
}

TEST(QmailctlArgs, Errors) {
  const std::vector<std::vector<std::string>> bad = {
      {},
      {"-d"},
      {"frobnicate"},
      {"stat", "extra"},
      {"passwd"},
      {"passwd", "a", "b"},
      {"init"},
      {"init", "/a", "/b"},
      {"init", "/a", "--me"},
      {"init", "/a", "--me", "bad name"},
      {"init", "/a", "--smtp", "nope"},
      {"init", "/a", "--smtp", "127.0.0.1:25", "--smtp", "127.0.0.1:26"},
      {"init", "/a", "--frob"},
      {"-d", "/a", "init", "/b"},
      {"dkim-keygen"},
      {"dkim-keygen", "a.test", "sel", "extra"},
      {"dkim-keygen", "a.test", "--rsa", "--ed25519"},
      {"dkim-keygen", "a.test", "--dsa"},
  };
  for (const auto& v : bad) {
    auto o = parse(v);
    EXPECT_FALSE(o.ok()) << (v.empty() ? "(none)" : v.back());
  }
}

TEST(QmailctlArgs, Init) {
  auto o = parse({"init", "run", "--me", "localhost", "--smtp", "127.0.0.1:2525", "--pop3",
                  "127.0.0.1:2110"});
  ASSERT_TRUE(o.ok()) << o.error().context();
  EXPECT_EQ(o->command, Command::kInit);
  EXPECT_EQ(o->dir, std::optional<std::string>("run"));
  EXPECT_EQ(o->me, std::optional<std::string>("localhost"));
  EXPECT_FALSE(o->system);
  ASSERT_EQ(o->listeners.size(), 2u);
  EXPECT_EQ(o->listeners[0].service, "smtp");
  EXPECT_EQ(o->listeners[0].addr.text(), "127.0.0.1:2525");
  EXPECT_EQ(o->listeners[1].service, "pop3");

  auto s = parse({"init", "--system"});
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->system);
  EXPECT_EQ(s->dir, std::optional<std::string>("/var/qmail"));
  auto sm = parse({"init", "--system", "/q", "--me", "sys.test"});
  ASSERT_TRUE(sm.ok());
  EXPECT_EQ(sm->me, std::optional<std::string>("sys.test"));

  auto d = parse({"-d", "/q", "init", "--qmtp", "[::1]:209"});
  ASSERT_TRUE(d.ok()) << d.error().context();
  EXPECT_EQ(d->dir, std::optional<std::string>("/q"));
  ASSERT_EQ(d->listeners.size(), 1u);
  EXPECT_EQ(d->listeners[0].addr.host, "::1");
}

TEST(QmailctlArgs, DkimKeygen) {
  struct Case {
    std::vector<std::string> args;
    std::vector<std::string> want;
    bool ed25519;
  };
  const Case cases[] = {
      {{"dkim-keygen", "example.com"}, {"example.com"}, false},
      {{"dkim-keygen", "example.com", "mail"}, {"example.com", "mail"}, false},
      {{"dkim-keygen", "--ed25519", "example.com"}, {"example.com"}, true},
      {{"dkim-keygen", "example.com", "ed", "--ed25519"}, {"example.com", "ed"}, true},
      {{"dkim-keygen", "example.com", "--rsa"}, {"example.com"}, false},
  };
  for (const auto& c : cases) {
    auto o = parse(c.args);
    ASSERT_TRUE(o.ok()) << c.args.back() << ": " << o.error().context();
    EXPECT_EQ(o->command, Command::kDkimKeygen);
    EXPECT_EQ(o->args, c.want);
    EXPECT_EQ(o->ed25519, c.ed25519);
  }
  auto p = parse({"passwd", "demo@localhost"});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->args, std::vector<std::string>{"demo@localhost"});
}

TEST(QmailctlProc, ParsePid) {
  EXPECT_EQ(parse_pid("123\n"), 123);
  EXPECT_EQ(parse_pid("123"), 123);
  EXPECT_FALSE(parse_pid(""));
  EXPECT_FALSE(parse_pid("0\n"));
  EXPECT_FALSE(parse_pid("-1\n"));
  EXPECT_FALSE(parse_pid("12 \n"));
  EXPECT_FALSE(parse_pid("99999999999\n"));
  EXPECT_FALSE(parse_pid("1\n\n"));
}

TEST(QmailctlProc, ParseStat) {
  const char* line = "4242 (qmail send) x) S 1 4240 4241 0 -1 4194560 95 0 0 0";
  EXPECT_EQ(parse_stat_state(line), 'S');
  EXPECT_EQ(parse_stat_session(line), 4241);
  EXPECT_EQ(parse_stat_state("1 (z) Z 0 1 1"), 'Z');
  EXPECT_FALSE(parse_stat_state("garbage"));
  EXPECT_FALSE(parse_stat_session("1 (z) S 0 1"));
  EXPECT_FALSE(parse_stat_session("1 (z) S 0 1 x"));
}

TEST(QmailctlCompile, MoreRcptHostsKey) {
  struct Case {
    const char* in;
    std::optional<std::string> want;
  };
  const Case cases[] = {
      {"Example.COM", "example.com"}, {"example.com \t ", "example.com"},
      {"", std::nullopt},             {"   ", std::nullopt},
      {"#comment", std::nullopt},     {" #not a comment", " #not a comment"},
      {".sub.example", ".sub.example"}, {"a\r", "a\r"},
      {"x\n", "x"},
  };
  for (const auto& c : cases) EXPECT_EQ(morercpthosts_key(c.in), c.want) << c.in;
}

TEST(QmailctlCompile, MoreRcptHostsKeys) {
  struct Case {
    const char* text;
    std::vector<std::string> want;
  };
  const Case cases[] = {
      {"", {}},
      {"A.test\n", {"a.test"}},
      {"A.test\n\n# c\n.B.TEST \nlast", {"a.test", ".b.test", "last"}},
      {"dup\nDUP\n", {"dup", "dup"}},
      {"\n\n\n", {}},
  };
  for (const auto& c : cases) EXPECT_EQ(morercpthosts_keys(c.text), c.want) << c.text;
}

TEST(QmailctlLayout, QueueAsQmail) {
  std::set<std::string> paths;
  for (const auto& n : layout_nodes()) {
    EXPECT_TRUE(paths.insert(n.path).second) << "twice: " << n.path;
    // Parents come first.
    if (!n.path.empty()) {
      size_t slash = n.path.rfind('/');
      std::string parent = slash == std::string::npos ? "" : n.path.substr(0, slash);
      EXPECT_TRUE(paths.count(parent)) << n.path;
    }
  }
  for (const char* d : {"mess", "info", "local", "remote"})
    for (int i = 0; i < 23; ++i)
      EXPECT_TRUE(paths.count(std::string("queue/") + d + "/" + std::to_string(i))) << d << i;
  EXPECT_FALSE(paths.count("queue/mess/23"));
  for (const auto& n : layout_nodes()) {
    if (n.path == "queue/lock/trigger") {
      EXPECT_EQ(n.kind, Kind::kFifo);
      EXPECT_EQ(n.mode, 0622u);
    }
    if (n.path == "queue/mess") {
      EXPECT_EQ(n.mode, 0750u);
    }
    if (n.path == "queue/info") {
      EXPECT_EQ(n.owner, Who::kQmails);
    }
    if (n.path == "alias") {
      EXPECT_EQ(n.mode, 02755u);
    }
  }
}

TEST(QmailctlListener, ProbeHost) {
  struct Case {
    const char* listen;
    const char* probe;
  };
  const Case cases[] = {
      {"0", "127.0.0.1"}, {"0.0.0.0", "127.0.0.1"}, {"", "127.0.0.1"},
      {"::", "::1"},      {"127.0.0.1", "127.0.0.1"}, {"::1", "::1"},
      {"mx.example", "mx.example"},
  };
  for (const auto& c : cases) EXPECT_EQ(probe_host(c.listen), c.probe) << c.listen;
}

const Service& service(const char* name) {
  for (const Service& s : kServices)
    if (std::string(s.name) == name) return s;
  throw std::runtime_error(name);
}

TEST(QmailctlListener, TcpserverArgv) {
  using V = std::vector<std::string>;
  ListenerSettings plain;
  plain.me = "mx.test";
  ListenerSettings sys = plain;
  sys.limit = 100;
  sys.per_ip = 0;
  sys.daemon = Creds{71, 72};
  sys.logger = Creds{73, 72};
  struct Case {
    const char* service;
    const ListenerSettings* st;
    const char* addr;
    V want;
  };
  const Case cases[] = {
      {"smtp", &plain, "127.0.0.1:2525",
       {"/i/bin/tcpserver", "-1", "-v", "-c", "40", "-C", "10", "-M",
        "421 4.7.0 too many connections from your address (#4.7.0)\r\n", "-l", "mx.test", "-x",
        "/i/control/tcp.smtp.cdb", "--", "127.0.0.1", "2525", "/i/bin/qmail-smtpd"}},
      {"pop3", &plain, "[::1]:2110",
       {"/i/bin/tcpserver", "-1", "-v", "-c", "40", "-C", "10", "-M",
        "-ERR too many connections from your address\r\n", "-l", "mx.test", "-x",
        "/i/control/tcp.pop3.cdb", "--", "::1", "2110", "/i/bin/qmail-popup", "mx.test",
        "/i/bin/qmail-checkpassword", "/i/bin/qmail-pop3d", "Maildir"}},
      {"qmtp", &plain, "0.0.0.0:209",
       {"/i/bin/tcpserver", "-1", "-v", "-c", "40", "-C", "10", "-l", "mx.test", "-x",
        "/i/control/tcp.qmtp.cdb", "--", "0.0.0.0", "209", "/i/bin/qmail-qmtpd"}},
      // The system instance: qmaild/nofiles, but the POP3 chain stays root
      // (qmail-checkpassword must become the user). -C 0: no -M text.
      {"smtp", &sys, "0.0.0.0:25",
       {"/i/bin/tcpserver", "-1", "-v", "-c", "100", "-C", "0", "-l", "mx.test", "-x",
        "/i/control/tcp.smtp.cdb", "-u", "71", "-g", "72", "--", "0.0.0.0", "25",
        "/i/bin/qmail-smtpd"}},
      {"qmqp", &sys, "10.0.0.1:628",
       {"/i/bin/tcpserver", "-1", "-v", "-c", "100", "-C", "0", "-l", "mx.test", "-x",
        "/i/control/tcp.qmqp.cdb", "-u", "71", "-g", "72", "--", "10.0.0.1", "628",
        "/i/bin/qmail-qmqpd"}},
      {"pop3", &sys, "0.0.0.0:110",
       {"/i/bin/tcpserver", "-1", "-v", "-c", "100", "-C", "0", "-l", "mx.test", "-x",
        "/i/control/tcp.pop3.cdb", "--", "0.0.0.0", "110", "/i/bin/qmail-popup", "mx.test",
        "/i/bin/qmail-checkpassword", "/i/bin/qmail-pop3d", "Maildir"}},
  };
  for (const auto& c : cases) {
    auto hp = parse_host_port(c.addr);
    ASSERT_TRUE(hp.ok()) << c.addr;
    EXPECT_EQ(tcpserver_argv("/i", service(c.service), *hp, *c.st), c.want)
        << c.service << " " << c.addr;
  }
}

TEST(QmailctlListener, ServiceFiles) {
  std::set<std::string> seen;
  for (const Service& s : kServices) {
    std::string n = s.name;
    EXPECT_EQ(std::string(s.listen), "control/listen." + n);
    EXPECT_EQ(std::string(s.rules), "control/tcp." + n);
    EXPECT_EQ(std::string(s.pid_file), "supervise/" + n + ".pid");
    EXPECT_EQ(std::string(s.log_dir), "log/" + n);
    EXPECT_TRUE(seen.insert(n).second);
    EXPECT_EQ(s.as_root, n == "pop3") << n;
  }
}

}  // namespace
}  // namespace qng::ctl
