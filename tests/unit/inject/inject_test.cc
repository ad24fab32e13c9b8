// inject_test.cc: qmail-inject's header rewriting on whole messages, from
// golden files (golden/NAME.in -> golden/NAME.ref), plus its arguments,
// environment and header reader.
//
// NAME.in: directive lines, then a line "--", then the message. Directives:
//   args: WORD...        qmail-inject's arguments (split at spaces)
//   env: NAME=VALUE      one environment variable (USER=joe is always set)
//   mft: ADDRESS         a QMAILMFTFILE line
// NAME.ref: "F<sender>" and one "T<recipient>" line each, a line "--",
// then the message as qmail-inject queues it; or "error: TEXT" when
// qmail-inject refuses it. Fixed: defaulthost dh.example, defaultdomain
// dd.example, plusdomain pd.example, idhost id.example, time 1700000000
// (14 Nov 2023 22:13:20 GMT), pid 4242.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fd.h"
#include "header.h"
#include "io.h"
#include "message.h"
#include "settings.h"

namespace qng::inject {
namespace {

// Beside this file (the build passes absolute source paths).
std::string golden_dir() { return (std::filesystem::path(__FILE__).parent_path() / "golden").string(); }

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A descriptor reading `bytes` from the start.
Fd input_fd(const std::string& bytes) {
  Fd fd(::memfd_create("inject-test", MFD_CLOEXEC));
  EXPECT_TRUE(fd.valid());
  EXPECT_TRUE(write_all(fd.get(), bytes));
  EXPECT_EQ(::lseek(fd.get(), 0, SEEK_SET), 0);
  return fd;
}

class StringSink : public Sink {
 public:
  Status begin(const std::string& sender, const std::vector<std::string>& recipients) override {
    envelope += "F" + sender + "\n";
    for (const auto& r : recipients) envelope += "T" + r + "\n";
    return {};
  }
  void put(std::string_view bytes) override { message.append(bytes); }
  Status end() override { return {}; }

  std::string envelope;
  std::string message;
};

struct GoldenCase {
  std::vector<std::string> args;
  std::map<std::string, std::string> env{{"USER", "joe"}};
  std::vector<std::string> mft;
  bool has_mft = false;
  std::string message;
};

GoldenCase parse_case(const std::string& text) {
  GoldenCase c;
  size_t pos = 0;
  for (;;) {
    size_t eol = text.find('\n', pos);
    EXPECT_NE(eol, std::string::npos) << "no -- line";
    if (eol == std::string::npos) return c;
    std::string line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line == "--") break;
    if (line.rfind("args:", 0) == 0) {
      std::istringstream words(line.substr(5));
      for (std::string w; words >> w;) c.args.push_back(w);
    } else if (line.rfind("env: ", 0) == 0) {
      std::string kv = line.substr(5);
      size_t eq = kv.find('=');
      c.env[kv.substr(0, eq)] = kv.substr(eq + 1);
    } else if (line.rfind("mft: ", 0) == 0) {
      c.has_mft = true;
      c.mft.push_back(line.substr(5));
    } else {
      ADD_FAILURE() << "unknown directive: " << line;
    }
  }
  c.message = text.substr(pos);
  return c;
}

// What qmail-inject makes of the case: the .ref text.
std::string run_case(const GoldenCase& c) {
  auto opts = parse_args(c.args);
  if (!opts) return "error: " + opts.error().message() + "\n";
  auto env = [&](const char* name) -> const char* {
    auto it = c.env.find(name);
    return it == c.env.end() ? nullptr : it->second.c_str();
  };
  Settings s = settings_from_env(env);
  s.start = 1700000000;
  s.pid = 4242;
  if (c.has_mft) s.mft = c.mft;
  auto rules = RewriteRules::make("dh.example", "dd.example", "pd.example");
  if (!rules) return "error: " + rules.error().message() + "\n";
  s.rules = *rules;
  s.idhost = "id.example";

  HeaderRewriter rw(s, resolve_mode(opts->mode, !opts->recipients.empty()), !opts->queue);
  if (opts->sender) {
    if (auto st = rw.set_sender(*opts->sender); !st) return "error: " + st.error().message() + "\n";
  }
  for (const auto& r : opts->recipients)
    if (auto st = rw.add_recipient(r); !st) return "error: " + st.error().message() + "\n";

  Fd in_fd = input_fd(c.message);
  Reader in(in_fd.get());
  StringSink sink;
  Status st = inject_message(in, rw, opts->queue, sink);
  if (!st) {
    std::string e = "error: " + st.error().message();
    if (e.back() != '\n') e += "\n";
    return e;
  }
  return sink.envelope + "--\n" + sink.message;
}

TEST(InjectGolden, EveryCase) {
  std::vector<std::filesystem::path> inputs;
  for (const auto& e : std::filesystem::directory_iterator(golden_dir()))
    if (e.path().extension() == ".in") inputs.push_back(e.path());
  std::sort(inputs.begin(), inputs.end());
  ASSERT_GE(inputs.size(), 10u);
  for (const auto& in : inputs) {
    std::filesystem::path ref = in;
    ref.replace_extension(".ref");
    std::string got = run_case(parse_case(slurp(in.string())));
    if (const char* dir = std::getenv("QNG_GOLDEN_WRITE")) {  // regenerate, then review
      std::ofstream(std::string(dir) + "/" + ref.filename().string(), std::ios::binary) << got;
    }
    EXPECT_EQ(got, slurp(ref.string())) << in.filename();
  }
}

TEST(InjectArgs, Options) {
  struct Case {
    std::vector<std::string> args;
    bool ok;
    RecipientMode mode;
    bool queue;
    const char* sender;  // nullptr: none
    std::vector<std::string> recips;
  };
  const Case cases[] = {
      {{}, true, RecipientMode::kDefault, true, nullptr, {}},
      {{"-n", "a@b"}, true, RecipientMode::kDefault, false, nullptr, {"a@b"}},
      {{"-nN"}, true, RecipientMode::kDefault, true, nullptr, {}},
      {{"-ah"}, true, RecipientMode::kHeader, true, nullptr, {}},
      {{"-H", "-A", "-a"}, true, RecipientMode::kArgs, true, nullptr, {}},
      {{"-fme@x", "y"}, true, RecipientMode::kDefault, true, "me@x", {"y"}},
      {{"-nf", "me", "y"}, true, RecipientMode::kDefault, false, "me", {"y"}},
      {{"-f", ""}, true, RecipientMode::kDefault, true, "", {}},
      {{"--", "-n"}, true, RecipientMode::kDefault, true, nullptr, {"-n"}},
      {{"a", "-n"}, true, RecipientMode::kDefault, true, nullptr, {"a", "-n"}},
      {{"-"}, true, RecipientMode::kDefault, true, nullptr, {"-"}},
      {{"-x"}, false, RecipientMode::kDefault, true, nullptr, {}},
      {{"-f"}, false, RecipientMode::kDefault, true, nullptr, {}},
  };
  for (const auto& c : cases) {
    auto o = parse_args(c.args);
    ASSERT_EQ(o.ok(), c.ok) << testing::PrintToString(c.args);
    if (!c.ok) {
      EXPECT_TRUE(o.error().permanent());
      continue;
    }
    EXPECT_EQ(o->mode, c.mode);
    EXPECT_EQ(o->queue, c.queue);
    EXPECT_EQ(o->sender.has_value(), c.sender != nullptr);
    if (c.sender) {
      EXPECT_EQ(*o->sender, c.sender);
    }
    EXPECT_EQ(o->recipients, c.recips);
  }
  EXPECT_TRUE(parse_args({"--help"})->help);
  EXPECT_EQ(resolve_mode(RecipientMode::kDefault, true), RecipientMode::kArgs);
  EXPECT_EQ(resolve_mode(RecipientMode::kDefault, false), RecipientMode::kHeader);
  EXPECT_EQ(resolve_mode(RecipientMode::kBoth, false), RecipientMode::kBoth);
}

TEST(InjectEnv, Precedence) {
  std::map<std::string, std::string> env = {
      {"QMAILUSER", "qu"}, {"MAILUSER", "mu"}, {"USER", "u"}, {"LOGNAME", "l"},
      {"QMAILHOST", "qh"}, {"MAILHOST", "mh"},
      {"QMAILNAME", "qn"}, {"MAILNAME", "mn"}, {"NAME", "n"},
      {"QMAILINJECT", "csfirmx"},
  };
  auto lookup = [&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  auto check = [&](const char* user, const char* host, const char* name) {
    Settings s = settings_from_env(lookup);
    EXPECT_EQ(s.mail_user, user);
    EXPECT_EQ(s.sender_user, user);
    EXPECT_EQ(s.mail_host.value_or("-"), host);
    EXPECT_EQ(s.sender_host.value_or("-"), host);
    EXPECT_EQ(s.full_name.value_or("-"), name);
  };
  check("qu", "qh", "qn");
  env.erase("QMAILUSER"); env.erase("QMAILHOST"); env.erase("QMAILNAME");
  check("mu", "mh", "mn");
  env.erase("MAILUSER"); env.erase("MAILHOST"); env.erase("MAILNAME");
  check("u", "-", "n");
  env.erase("USER"); env.erase("NAME");
  check("l", "-", "-");
  env.erase("LOGNAME");
  check("anonymous", "-", "-");

  Settings s = settings_from_env(lookup);
  EXPECT_TRUE(s.name_comment && s.drop_return_path && s.drop_from && s.drop_message_id &&
              s.verp_recipient && s.verp_message);
  env["QMAILSUSER"] = "su";
  env["QMAILSHOST"] = "sh";
  s = settings_from_env(lookup);
  EXPECT_EQ(s.sender_user, "su");
  EXPECT_EQ(*s.sender_host, "sh");
  EXPECT_EQ(s.mail_user, "anonymous");
  EXPECT_FALSE(s.mail_host);
}

TEST(InjectHeader, ReaderSplitsFieldsAndFindsTheBody) {
  struct Case {
    std::string in;
    std::vector<std::string> fields;
    HeaderEnd::Kind kind;
    std::string first_line;
  };
  const Case cases[] = {
      {"", {}, HeaderEnd::kEof, ""},
      {"A: 1\n", {"A: 1\n"}, HeaderEnd::kEof, ""},
      {"A: 1", {"A: 1\n"}, HeaderEnd::kEof, ""},
      {"A: 1\n b\n\tc\nB : 2\n\nbody", {"A: 1\n b\n\tc\n", "B : 2\n"}, HeaderEnd::kBlank, ""},
      {"\nbody\n", {}, HeaderEnd::kBlank, ""},
      {"not a field\n", {}, HeaderEnd::kBody, "not a field\n"},
      {" indented\n", {}, HeaderEnd::kBody, " indented\n"},
      {"A: 1\nbad line\nB: 2\n", {"A: 1\n"}, HeaderEnd::kBody, "bad line\n"},
      {"From me Mon Jan 1\nA: 1\n\n", {"MBOX-Line: From me Mon Jan 1\n", "A: 1\n"},
       HeaderEnd::kBlank, ""},
      {"A: 1\r\n\r\n", {"A: 1\r\n"}, HeaderEnd::kBody, "\r\n"},
  };
  for (const auto& c : cases) {
    Fd fd = input_fd(c.in);
    Reader in(fd.get());
    std::vector<std::string> got;
    auto end = read_header(in, [&](std::string f) {
      got.push_back(std::move(f));
      return Status{};
    });
    ASSERT_TRUE(end) << c.in;
    EXPECT_EQ(got, c.fields) << c.in;
    EXPECT_EQ(end->kind, c.kind) << c.in;
    EXPECT_EQ(end->first_line, c.first_line) << c.in;
  }
}

TEST(InjectHeader, CapOnHeaderBytes) {
  auto ignore = [](std::string) { return Status{}; };
  // A header field past the cap is an error...
  {
    Fd fd = input_fd("A: " + std::string(200, 'x') + "\n\n");
    Reader in(fd.get());
    auto end = read_header(in, ignore, 100);
    ASSERT_FALSE(end);
    EXPECT_TRUE(end.error().permanent());
    EXPECT_NE(end.error().message().find("header too long"), std::string::npos);
  }
  {  // ...so is a continuation line that passes it...
    Fd fd = input_fd("A: 1\n " + std::string(200, 'x') + "\n\n");
    Reader in(fd.get());
    EXPECT_FALSE(read_header(in, ignore, 100));
  }
  {  // ...but a long line that is no field starts the body, kept whole.
    std::string line(300, 'y');
    Fd fd = input_fd("A: 1\n" + line + "\nrest\n");
    Reader in(fd.get());
    std::vector<std::string> got;
    auto end = read_header(in, [&](std::string f) {
      got.push_back(f);
      return Status{};
    }, 100);
    ASSERT_TRUE(end);
    EXPECT_EQ(got, std::vector<std::string>{"A: 1\n"});
    EXPECT_EQ(end->kind, HeaderEnd::kBody);
    EXPECT_EQ(end->first_line.substr(0, 300), line);
    std::string rest(100, '\0');
    auto n = in.read(rest.data(), rest.size());
    ASSERT_TRUE(n);
    EXPECT_EQ(end->first_line.substr(300) + rest.substr(0, *n), "\nrest\n");
  }
}

TEST(InjectHeader, RecipientCap) {
  Settings s;
  s.rules = *RewriteRules::make("h.x", "d.x", "p.x");
  HeaderRewriter rw(s, RecipientMode::kHeader, false);
  std::string to = "To: a";
  for (size_t i = 1; i <= kMaxAddresses; ++i) to += ",a";
  auto st = rw.field(to + "\n");
  ASSERT_FALSE(st);
  EXPECT_TRUE(st.error().permanent());
  EXPECT_NE(st.error().message().find("too many addresses"), std::string::npos);
}

TEST(InjectHeader, PrintModeStartsWithReturnPath) {
  Settings s;
  s.rules = *RewriteRules::make("h.x", "d.x", "p.x");
  s.mail_user = s.sender_user = "joe";
  s.idhost = "id.x";
  HeaderRewriter rw(s, RecipientMode::kHeader, true);
  ASSERT_TRUE(rw.field("To: a\n"));
  ASSERT_TRUE(rw.field("From: x <\"b c\"@d.e>\n"));
  ASSERT_TRUE(rw.field("Date: now\n"));
  ASSERT_TRUE(rw.field("Message-ID: <1@x>\n"));
  auto h = rw.finish();
  ASSERT_TRUE(h);
  EXPECT_EQ(*h,
            "Return-Path: <joe@h.x>\n"
            "To: a@h.x\n"
            "From: x <\"b c\"@d.e>\n"
            "Date: now\n"
            "Message-ID: <1@x>\n");
  EXPECT_EQ(rw.recipients(), std::vector<std::string>{"a@h.x"});
}

TEST(InjectHeader, AddedFieldFormats) {
  EXPECT_EQ(date_line("Date", 1700000000), "Date: 14 Nov 2023 22:13:20 -0000\n");
  EXPECT_EQ(message_id_line("Message-ID", 1700000000, 77, "id.example"),
            "Message-ID: <20231114221320.77.qmail@id.example>\n");
}

}  // namespace
}  // namespace qng::inject
