// passwd_test.cc: users/passwd: yescrypt hashes, checks, rewrites, unknown
// users, addresses, and reading the password line.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fd.h"
#include "passwd.h"

namespace qng {
namespace {

using namespace std::string_literals;

// openssl passwd -6 -salt abcdefgh secret
constexpr const char* kSha512Secret =
    "$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/"
    "cZ/1GM/O6IND4WQhG.";

class PasswdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "qng-passwd-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    home_ = tmpl;
    std::filesystem::create_directories(home_ + "/users");
    std::filesystem::create_directories(home_ + "/control");
    put("control/me", "Example.TEST\n");
  }
  void TearDown() override { std::filesystem::remove_all(home_); }

  void put(const std::string& rel, const std::string& data) {
    std::ofstream(home_ + "/" + rel, std::ios::binary) << data;
  }
  std::string get(const std::string& rel) {
    std::ifstream in(home_ + "/" + rel, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  bool check(const std::string& address, const std::string& password) {
    auto r = check_password(home_, address, password);
    EXPECT_TRUE(r) << r.error().message();
    return r && *r;
  }

  std::string home_;
};

TEST(PasswdHash, YescryptWithFreshSalt) {
  auto a = hash_password("correct horse");
  auto b = hash_password("correct horse");
  ASSERT_TRUE(a) << a.error().message();
  ASSERT_TRUE(b);
  EXPECT_EQ(a->rfind("$y$", 0), 0u) << *a;
  EXPECT_NE(*a, *b);  // random salt
  EXPECT_TRUE(verify_password("correct horse", *a));
  EXPECT_FALSE(verify_password("correct horsE", *a));
  EXPECT_FALSE(verify_password("", *a));
}

TEST(PasswdHash, OtherCryptHashesAndLockedOnes) {
  struct Case {
    std::string password, hash;
    bool want;
  };
  const Case cases[] = {
      {"secret", kSha512Secret, true},        // openssl passwd -6
      {"secreT", kSha512Secret, false},
      {"secret", "*", false},                 // locked
      {"secret", "!", false},
      {"secret", "", false},
      {"secret", "$6$abcdefgh$", false},       // truncated
      {"secret", "$6$abcdefgh$ltjgWl\0"s, false},
  };
  for (const auto& c : cases)
    EXPECT_EQ(verify_password(c.password, c.hash), c.want) << c.hash;
}

TEST(PasswdHash, RefusesBadPasswords) {
  const std::string bad[] = {"", "a\nb", "a\0b"s, std::string(kMaxPassword + 1, 'x')};
  for (const auto& p : bad) {
    auto h = hash_password(p);
    ASSERT_FALSE(h) << p.size();
    EXPECT_TRUE(h.error().permanent());
  }
}

TEST_F(PasswdTest, LoginAddresses) {
  struct Case {
    const char* login;
    const char* want;  // nullptr: refused
  };
  const Case cases[] = {
      {"Jo@Example.ORG", "jo@example.org"},
      {"jo", "jo@example.test"},  // bare: @control/me, lowercased
      {"a.b-c@x", "a.b-c@x"},
      {"jo@", nullptr},
      {"@example.org", nullptr},
      {"jo:x@example.org", nullptr},
      {"jo smith@example.org", nullptr},
      {"jo\t@example.org", nullptr},
      {"", nullptr},
  };
  for (const auto& c : cases) {
    auto a = login_address(home_, c.login);
    if (c.want) {
      ASSERT_TRUE(a) << c.login << ": " << a.error().message();
      EXPECT_EQ(*a, c.want);
    } else {
      ASSERT_FALSE(a) << c.login;
      EXPECT_TRUE(a.error().permanent()) << c.login;
    }
  }
  EXPECT_FALSE(login_address(home_, std::string(1001, 'a') + "@x"));
}

TEST_F(PasswdTest, SetCheckAndRewrite) {
  // No file: nobody is known.
  EXPECT_FALSE(check("jo@example.test", "pw1"));

  ASSERT_TRUE(set_password(home_, "Jo@Example.Test", "pw1"));
  std::string text = get("users/passwd");
  EXPECT_EQ(text.rfind("jo@example.test:$y$", 0), 0u) << text;
  EXPECT_EQ(text.back(), '\n');
  struct stat st;
  ASSERT_EQ(::stat((home_ + "/users/passwd").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_FALSE(std::filesystem::exists(home_ + "/users/passwd.tmp"));

  EXPECT_TRUE(check("jo@example.test", "pw1"));
  EXPECT_TRUE(check("JO@EXAMPLE.TEST", "pw1"));
  EXPECT_TRUE(check("jo", "pw1"));  // bare local part
  EXPECT_FALSE(check("jo@example.test", "pw2"));
  EXPECT_FALSE(check("kim@example.test", "pw1"));  // unknown user
  EXPECT_FALSE(check("jo:x", "pw1"));              // not even an address

  // Other lines stay as they were; the user's line is replaced, duplicates
  // go; a new user is appended.
  put("users/passwd", "# comment\n"s + "kim@example.test:" + kSha512Secret + "\n" + text +
                          "jo@example.test:*\n" + "\n");
  ASSERT_TRUE(set_password(home_, "jo@example.test", "pw2"));
  EXPECT_TRUE(check("jo@example.test", "pw2"));
  EXPECT_FALSE(check("jo@example.test", "pw1"));
  EXPECT_TRUE(check("kim@example.test", "secret"));
  std::string after = get("users/passwd");
  std::vector<std::string> lines;
  std::istringstream in(after);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), 4u) << after;
  EXPECT_EQ(lines[0], "# comment");
  EXPECT_EQ(lines[1], "kim@example.test:"s + kSha512Secret);
  EXPECT_EQ(lines[2].rfind("jo@example.test:$y$", 0), 0u);
  EXPECT_EQ(lines[3], "");

  ASSERT_TRUE(set_password(home_, "new@example.org", "pw3"));
  EXPECT_EQ(get("users/passwd").rfind(after, 0), 0u);  // appended
  EXPECT_TRUE(check("new@example.org", "pw3"));
}

TEST_F(PasswdTest, RefusesBadInput) {
  EXPECT_FALSE(set_password(home_, "jo@example.test", ""));
  EXPECT_FALSE(set_password(home_, "jo@example.test", "a\nb"));
  EXPECT_FALSE(set_password(home_, "jo:x@example.test", "pw"));
  EXPECT_FALSE(set_password(home_, "@example.test", "pw"));
  EXPECT_FALSE(std::filesystem::exists(home_ + "/users/passwd"));
}

TEST_F(PasswdTest, CapsAndMissingMe) {
  put("users/passwd", std::string(kMaxPasswdLine + 1, 'x') + "\n");
  auto r = check_password(home_, "jo@example.test", "pw");
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().temporary());
  EXPECT_FALSE(set_password(home_, "jo@example.test", "pw"));

  std::filesystem::remove(home_ + "/control/me");
  put("users/passwd", "");
  auto bare = check_password(home_, "jo", "pw");
  EXPECT_FALSE(bare);  // no control/me: a bare name cannot be resolved
}

TEST_F(PasswdTest, ConcurrentWritersLoseNothing) {
  // Each writer reads, hashes and rewrites under the lock on users/.
  std::vector<pid_t> kids;
  for (int i = 0; i < 4; ++i) {
    pid_t pid = ::fork();
    ASSERT_NE(pid, -1);
    if (pid == 0) {
      bool ok = set_password(home_, "u" + std::to_string(i) + "@example.test", "pw").ok();
      ::_exit(ok ? 0 : 1);
    }
    kids.push_back(pid);
  }
  for (pid_t pid : kids) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  for (int i = 0; i < 4; ++i)
    EXPECT_NE(get("users/passwd").find("u" + std::to_string(i) + "@example.test:$y$"),
              std::string::npos)
        << i;
}

class PasswordLine : public ::testing::Test {
 protected:
  // Feeds input through a pipe; returns the line and what was left unread.
  static std::pair<Result<std::string>, std::string> read(const std::string& input) {
    Fd r, w;
    EXPECT_TRUE(make_pipe(r, w));
    EXPECT_TRUE(write_all(w.get(), input));
    w.reset();
    auto line = read_password_line(r.get());
    std::string rest;
    char buf[4096];
    for (;;) {
      auto n = read_some(r.get(), buf, sizeof buf);
      if (!n || *n == 0) break;
      rest.append(buf, *n);
    }
    return {std::move(line), rest};
  }
};

TEST_F(PasswordLine, Table) {
  struct Case {
    std::string in;
    const char* want;  // nullptr: error
    std::string rest;
  };
  const std::string max(kMaxPasswordLine, 'p');
  const Case cases[] = {
      {"secret\nnext", "secret", "next"},  // nothing after the line is consumed
      {"secret\r\n", "secret", ""},
      {"secret", "secret", ""},            // end of input ends the line
      {"with space \n", "with space ", ""},
      {"\n", "", ""},
      {"", nullptr, ""},
      {"a\0b\n"s, nullptr, "b\n"},
      {max + "\n", max.c_str(), ""},
      {max + "\r\n", max.c_str(), ""},
      {max + "q\n", nullptr, ""},
      {max + "qq\n", nullptr, "\n"},  // gives up at the first byte too many
  };
  for (const auto& c : cases) {
    auto [line, rest] = read(c.in);
    if (c.want) {
      ASSERT_TRUE(line) << c.in.size() << ": " << line.error().message();
      EXPECT_EQ(*line, c.want);
    } else {
      ASSERT_FALSE(line) << c.in.size();
      EXPECT_TRUE(line.error().permanent());
    }
    EXPECT_EQ(rest, c.rest) << c.in.size();
  }
}

}  // namespace
}  // namespace qng
