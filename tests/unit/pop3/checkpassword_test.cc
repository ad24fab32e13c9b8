// checkpassword_test.cc: qmail-checkpassword's pieces: the fd 3 record, the
// routing of a login to a local part (locals, virtualdomains), the mailbox
// identity from users/cdb, and becoming that user.
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "assign.h"
#include "checkpassword.h"
#include "fd.h"

namespace qng::checkpw {
namespace {

using namespace std::string_literals;

TEST(CheckPassword, ParseCredentials) {
  struct Case {
    std::string in;
    bool ok;
    std::string login, password, stamp;
  };
  const Case cases[] = {
      {"jo\0pw\0<1.2@h>\0"s, true, "jo", "pw", "<1.2@h>"},
      {"jo\0pw\0"s, true, "jo", "pw", ""},
      {"jo\0pw\0<1.2@h>"s, true, "jo", "pw", "<1.2@h>"},
      {"jo\0pw\0ts\0extra\0"s, true, "jo", "pw", "ts"},
      {"\0\0"s, true, "", "", ""},
      {"jo\0pw"s, false, "", "", ""},
      {"jo"s, false, "", "", ""},
      {""s, false, "", "", ""},
  };
  for (const auto& c : cases) {
    auto got = parse_credentials(c.in);
    ASSERT_EQ(got.has_value(), c.ok) << c.in;
    if (!got) continue;
    EXPECT_EQ(got->login, c.login);
    EXPECT_EQ(got->password, c.password);
    EXPECT_EQ(got->timestamp, c.stamp);
  }
}

TEST(CheckPassword, ReadInputIsCapped) {
  struct Case {
    size_t size;
    int failure;
  };
  for (const Case& c : {Case{0, 0}, Case{100, 0}, Case{kMaxInput, 0}, Case{kMaxInput + 1, kExitBad},
                        Case{5000, kExitBad}}) {
    Fd r, w;
    ASSERT_TRUE(make_pipe(r, w));
    std::thread writer([&] {
      (void)write_all(w.get(), std::string(c.size, 'x'));
      w.reset();
    });
    Input in = read_input(r.get());
    r.reset();
    writer.join();
    EXPECT_EQ(in.failure, c.failure) << c.size;
    if (!c.failure) {
      EXPECT_EQ(in.data.size(), c.size);
    }
  }
  EXPECT_EQ(read_input(INT_MAX - 1).failure, kExitUsage);  // not open
}

class CheckPasswordHome : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "qng-checkpw-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    home_ = tmpl;
    std::filesystem::create_directories(home_ + "/control");
    std::filesystem::create_directories(home_ + "/users");
    put("control/me", "example.test\n");
  }
  void TearDown() override { std::filesystem::remove_all(home_); }
  void put(const std::string& rel, const std::string& data) {
    std::ofstream(home_ + "/" + rel, std::ios::binary) << data;
  }
  std::string home_;
};

TEST_F(CheckPasswordHome, DeliveryLocal) {
  put("control/virtualdomains",
      "example.org:ex\n.sub.net:sub\nexcept.example.org:\nkim@other.org:kimbox\n");
  struct Case {
    const char* address;
    const char* want;  // nullptr: not delivered here
  };
  const Case with_me[] = {
      {"jo@example.test", "jo"},          // locals defaults to me
      {"jo@example.org", "ex-jo"},        // example.org:ex
      {"jo@a.sub.net", "sub-jo"},         // .sub.net:sub
      {"jo@except.example.org", nullptr}, // an exception
      {"kim@other.org", "kimbox-kim"},    // user@domain key
      {"jo@other.org", nullptr},
      {"jo@elsewhere.net", nullptr},
  };
  Control control(home_ + "/control");
  for (const auto& c : with_me) {
    auto got = delivery_local(control, c.address);
    ASSERT_TRUE(got) << got.error().message();
    ASSERT_EQ(got->has_value(), c.want != nullptr) << c.address;
    if (c.want) {
      EXPECT_EQ(**got, c.want) << c.address;
    }
  }
  put("control/locals", "localhost\n");
  auto here = delivery_local(control, "jo@localhost");
  ASSERT_TRUE(here && here->has_value());
  EXPECT_EQ(**here, "jo");
  auto not_me = delivery_local(control, "jo@example.test");  // me is not in locals now
  ASSERT_TRUE(not_me);
  EXPECT_FALSE(not_me->has_value());
}

TEST_F(CheckPasswordHome, FindIdentity) {
  ASSERT_TRUE(compile_assign(
      "=jo:jo:1001:1002:/home/jo:::\n"
      "+ex-:ex:1003:1004:/home/ex:-::\n"
      "=withext:w:1005:1006:/home/w:-:box:\n"
      ".\n",
      home_ + "/users/cdb"));
  auto jo = find_identity(home_, "JO");
  ASSERT_TRUE(jo) << jo.error().message();
  ASSERT_TRUE(jo->has_value());
  EXPECT_EQ((*jo)->user, "jo");
  EXPECT_EQ((*jo)->uid, 1001u);
  EXPECT_EQ((*jo)->gid, 1002u);
  EXPECT_EQ((*jo)->home, "/home/jo");
  // Reached through an extension: the home is shared, no login of its own.
  for (const char* local : {"ex-jo", "withext"}) {
    auto got = find_identity(home_, local);
    ASSERT_TRUE(got) << local;
    EXPECT_FALSE(got->has_value()) << local;
  }
  // Not in users/cdb: a passwd account of that name, never root.
  for (const char* local : {"root", "no-such-account-zz9"}) {
    auto got = find_identity(home_, local);
    ASSERT_TRUE(got) << local;
    EXPECT_FALSE(got->has_value()) << local;
  }
  // A broken users/cdb is trouble, not "no such user".
  put("users/cdb", "garbage");
  EXPECT_FALSE(find_identity(home_, "jo"));
}

// Runs become() in a child process (it changes ids and the cwd) and says
// what the child saw: "uid gid cwd", or "error".
std::string become_in_child(const Identity& who) {
  Fd r, w;
  EXPECT_TRUE(make_pipe(r, w));
  pid_t pid = ::fork();
  if (pid == 0) {
    std::string out = "error";
    if (become(who)) {
      char cwd[4096];
      out = std::to_string(::getuid()) + " " + std::to_string(::getgid()) + " " +
            (::getcwd(cwd, sizeof cwd) ? cwd : "?");
    }
    (void)write_all(w.get(), out);
    ::_exit(0);
  }
  w.reset();
  std::string got;
  char buf[4096];
  for (;;) {
    auto n = read_some(r.get(), buf, sizeof buf);
    if (!n || *n == 0) break;
    got.append(buf, *n);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return got;
}

TEST_F(CheckPasswordHome, Become) {
  const std::string home = std::filesystem::canonical(home_).string();
  if (::geteuid() == 0) {
    // Root: becomes the user, and never root.
    EXPECT_EQ(become_in_child({"nobody", 65534, 65534, "/"}), "65534 65534 /");
    EXPECT_EQ(become_in_child({"root", 0, 0, home}), "error");
  } else {
    uid_t me = ::geteuid();
    gid_t my_gid = ::getegid();
    // Our own mailbox: no id changes, into its home.
    EXPECT_EQ(become_in_child({"me", me, my_gid, home}),
              std::to_string(me) + " " + std::to_string(my_gid) + " " + home);
    // Somebody else's: a check only, in "/".
    EXPECT_EQ(become_in_child({"other", me + 1, my_gid, home}),
              std::to_string(me) + " " + std::to_string(my_gid) + " /");
  }
}

}  // namespace
}  // namespace qng::checkpw
