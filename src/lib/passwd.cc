// passwd.cc: users/passwd: yescrypt hashes via libxcrypt, atomic rewrites,
// checks that take as long for unknown users as for known ones.
#include "passwd.h"

#include <crypt.h>
#include <grp.h>
#include <openssl/crypto.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "address.h"
#include "atomic.h"
#include "control.h"
#include "fd.h"
#include "lock.h"

namespace qng {
namespace {

// What an unknown user's password is checked against: a yescrypt setting of
// the default cost, so the miss costs what a hit costs.
constexpr const char* kDummySetting = "$y$j9T$d698n1Fo8VIAieEfErHkB/";
constexpr size_t kSaltBytes = 16;
constexpr unsigned kLockSeconds = 30;

// crypt(3)'s working area is 32 KiB: on the heap, wiped after use.
struct CryptArea {
  CryptArea() : data(std::make_unique<crypt_data>()) {}
  ~CryptArea() { ::explicit_bzero(data.get(), sizeof(crypt_data)); }
  std::unique_ptr<crypt_data> data;
};

// A NUL-terminated copy of a secret that wipes itself.
class Secret {
 public:
  explicit Secret(std::string_view s) : s_(s) {}
  ~Secret() { ::explicit_bzero(s_.data(), s_.size()); }
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  const char* c_str() const { return s_.c_str(); }

 private:
  std::string s_;
};

Status valid_password(std::string_view password) {
  if (password.empty()) return Error::perm("empty password", EINVAL);
  if (password.size() > kMaxPassword)
    return Error::perm("password longer than " + std::to_string(kMaxPassword) + " bytes", E2BIG);
  if (password.find('\0') != std::string_view::npos || password.find('\n') != std::string_view::npos)
    return Error::perm("password contains NUL or LF", EINVAL);
  return {};
}

// crypt_rn(password, setting): the hash, or nullopt when crypt(3) refuses
// the setting (a locked "*" hash, an unknown method).
std::optional<std::string> run_crypt(std::string_view password, const char* setting) {
  if (password.find('\0') != std::string_view::npos) return std::nullopt;
  Secret phrase(password);
  CryptArea area;
  const char* out =
      ::crypt_rn(phrase.c_str(), setting, area.data.get(), static_cast<int>(sizeof(crypt_data)));
  if (!out || out[0] == '*') return std::nullopt;
  return std::string(out);
}

bool valid_address_byte(unsigned char c) { return c > ' ' && c != 0x7f && c != ':'; }

// The lines of users/passwd ("" when it does not exist), each checked
// against the line cap.
Result<std::vector<std::string>> read_lines(const std::string& path, bool* existed) {
  auto data = read_file(path, kMaxPasswdBytes);
  if (!data) {
    if (data.error().code() == ENOENT) {
      if (existed) *existed = false;
      return std::vector<std::string>();
    }
    return data.error();
  }
  if (existed) *existed = true;
  std::vector<std::string> lines;
  std::string_view rest(*data);
  size_t number = 0;
  while (!rest.empty()) {
    ++number;
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    if (line.size() > kMaxPasswdLine)
      return Error::temp(path + " line " + std::to_string(number) + " is longer than " +
                             std::to_string(kMaxPasswdLine) + " bytes",
                         EPROTO);
    lines.emplace_back(line);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  }
  return lines;
}

// The address of a user line, or nullopt for a comment, an empty line, or a
// line without a colon.
std::optional<std::string_view> line_address(std::string_view line) {
  if (line.empty() || line[0] == '#') return std::nullopt;
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  return line.substr(0, colon);
}

// Run as root: the owner and group users/passwd should have.
struct Owner {
  uid_t uid;
  gid_t gid;
};

Result<Owner> wanted_owner(const std::string& home, const std::string& path, bool existed) {
  struct stat st;
  if (existed && ::stat(path.c_str(), &st) == 0) return Owner{st.st_uid, st.st_gid};
  const std::string users = home + "/users";
  if (::stat(users.c_str(), &st) == -1) return Error::last("unable to stat " + users);
  Owner o{st.st_uid, st.st_gid};
  if (o.uid == 0) {
    // The system instance: qmail-smtpd (qmaild, group nofiles) reads it.
    if (struct group* gr = ::getgrnam("nofiles")) o.gid = gr->gr_gid;
  }
  return o;
}

}  // namespace

std::string passwd_path(const std::string& home) { return home + "/users/passwd"; }

Result<std::string> login_address(const std::string& home, std::string_view login) {
  std::string address = lowercase(login);
  if (address.find('@') == std::string::npos) {
    auto me = Control(home + "/control").line("me");
    if (!me) return me.error();
    if (!*me || (*me)->empty()) return Error::temp("no control/me for a bare user name");
    address += '@';
    address += lowercase(**me);
  }
  if (address.size() > kMaxAddress) return Error::perm("address too long", E2BIG);
  for (char c : address)
    if (!valid_address_byte(static_cast<unsigned char>(c)))
      return Error::perm("invalid character in address", EINVAL);
  size_t at = address.rfind('@');
  if (at == 0 || at + 1 == address.size())
    return Error::perm("address needs a local part and a domain", EINVAL);
  return address;
}

Result<std::string> hash_password(std::string_view password) {
  if (auto v = valid_password(password); !v) return v.error();
  char random[kSaltBytes];
  size_t got = 0;
  while (got < sizeof random) {
    ssize_t n = ::getrandom(random + got, sizeof random - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::last("unable to get random bytes");
    }
    got += static_cast<size_t>(n);
  }
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (!::crypt_gensalt_rn("$y$", 0, random, static_cast<int>(sizeof random), setting,
                          static_cast<int>(sizeof setting)))
    return Error::last("unable to make a yescrypt salt");
  ::explicit_bzero(random, sizeof random);
  auto hash = run_crypt(password, setting);
  if (!hash) return Error::temp("crypt(3) refused to hash the password");
  return *hash;
}

bool verify_password(std::string_view password, std::string_view hash) {
  if (hash.find('\0') != std::string_view::npos) return false;
  const std::string setting(hash);
  auto got = run_crypt(password, setting.c_str());
  if (!got) {
    // A locked or unusable hash: still spend the time of a real check.
    (void)run_crypt(password, kDummySetting);
    return false;
  }
  return got->size() == hash.size() && CRYPTO_memcmp(got->data(), hash.data(), hash.size()) == 0;
}

Status set_password(const std::string& home, std::string_view address,
                    std::string_view password) {
  if (auto v = valid_password(password); !v) return v;
  auto addr = login_address(home, address);
  if (!addr) return addr.error();

  // One writer at a time: the lock is on users/ itself, no lock file.
  const std::string users = home + "/users";
  auto dir = open_dir(users);
  if (!dir) return dir.error();
  if (auto l = lock_exclusive(dir->get(), true, kLockSeconds); !l)
    return Error::sys(l.error().code(), "unable to lock " + users);

  const std::string path = passwd_path(home);
  bool existed = false;
  auto lines = read_lines(path, &existed);
  if (!lines) return lines.error();
  auto hash = hash_password(password);
  if (!hash) return hash.error();

  std::string out;
  bool replaced = false;
  for (const auto& line : *lines) {
    auto a = line_address(line);
    if (a && *a == *addr) {
      if (replaced) continue;  // a duplicate: the new line replaces all
      out += *addr + ":" + *hash + "\n";
      replaced = true;
      continue;
    }
    out += line;
    out += '\n';
  }
  if (!replaced) out += *addr + ":" + *hash + "\n";

  std::optional<Owner> owner;
  if (::geteuid() == 0) {
    auto o = wanted_owner(home, path, existed);
    if (!o) return o.error();
    owner = *o;
  }
  if (auto w = write_file_atomic(path, out, 0640); !w) return w;
  // write_file_atomic makes the file ours (root's); until the chown it is
  // only less readable, never more.
  if (owner && ::chown(path.c_str(), owner->uid, owner->gid) == -1)
    return Error::last("unable to chown " + path);
  return {};
}

Result<bool> check_password(const std::string& home, std::string_view address,
                            std::string_view password) {
  auto addr = login_address(home, address);
  if (!addr) {
    if (addr.error().permanent()) {
      (void)run_crypt(password, kDummySetting);
      return false;  // no such address can have a password
    }
    return addr.error();
  }
  auto lines = read_lines(passwd_path(home), nullptr);
  if (!lines) return lines.error();
  for (const auto& line : *lines) {
    auto a = line_address(line);
    if (a && *a == *addr)
      return verify_password(password, strip_trailing_space(line.substr(a->size() + 1)));
  }
  (void)run_crypt(password, kDummySetting);
  return false;
}

Result<std::string> read_password_line(int fd) {
  std::string line;
  line.reserve(kMaxPasswordLine + 2);  // no reallocation leaves copies behind
  bool any = false;
  for (;;) {
    char c;
    auto n = read_some(fd, &c, 1);
    if (!n) {
      ::explicit_bzero(line.data(), line.size());
      return Error::sys(n.error().code(), "unable to read the password");
    }
    if (*n == 0) break;
    any = true;
    if (c == '\n') break;
    // Room for the CR of a CRLF, which goes below.
    if (c == '\0' || line.size() > kMaxPasswordLine) {
      ::explicit_bzero(line.data(), line.size());
      return c == '\0' ? Error::perm("password contains NUL", EINVAL)
                       : Error::perm("password line longer than " +
                                         std::to_string(kMaxPasswordLine) + " bytes",
                                     E2BIG);
    }
    line += c;
  }
  if (!any) return Error::perm("no password given", EINVAL);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.size() > kMaxPasswordLine) {
    ::explicit_bzero(line.data(), line.size());
    return Error::perm("password line longer than " + std::to_string(kMaxPasswordLine) + " bytes",
                       E2BIG);
  }
  return line;
}

}  // namespace qng
