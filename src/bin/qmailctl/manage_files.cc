// manage_files.cc: file work for qmailctl's user and domain commands.
#include "manage_files.h"

#include <dirent.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "atomic.h"
#include "fd.h"
#include "lock.h"
#include "passwd.h"
#include "proc.h"

namespace qng::ctl {

namespace {

constexpr unsigned kLockSeconds = 30;

std::string admin_tool(const char* name) {
  std::string p = std::string("/usr/sbin/") + name;
  if (::access(p.c_str(), X_OK) == 0) return p;
  return std::string("/sbin/") + name;
}

Result<std::optional<MailOwner>> by_name(const char* name) {
  errno = 0;
  struct passwd* pw = ::getpwnam(name);
  if (pw) return std::optional<MailOwner>(MailOwner{pw->pw_name, pw->pw_uid, pw->pw_gid});
  if (errno != 0 && errno != ENOENT && errno != ESRCH)
    return Error::last(std::string("unable to look up user ") + name);
  return std::optional<MailOwner>();
}

}  // namespace

Result<MailOwner> mail_owner(const std::string& dir, bool create) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return Error::last("unable to stat " + dir);
  if (st.st_uid != 0) {
    errno = 0;
    if (struct passwd* pw = ::getpwuid(st.st_uid)) return MailOwner{pw->pw_name, pw->pw_uid, pw->pw_gid};
    return MailOwner{std::to_string(st.st_uid), st.st_uid, st.st_gid};
  }
  auto found = by_name(kVmailUser);
  if (!found) return found.error();
  if (*found) return **found;
  if (!create) return Error::perm(std::string("no user ") + kVmailUser + " yet");
  if (::geteuid() != 0) return Error::perm(dir + " is a system instance: run as root");
  auto r = run_wait({admin_tool("useradd"), "--system", "--user-group", "--home-dir", dir + "/home",
                     "--no-create-home", "--shell", "/usr/sbin/nologin", kVmailUser});
  if (!r) return r.error();
  if (*r != 0) return Error::temp(std::string("useradd ") + kVmailUser + " exited " + std::to_string(*r));
  auto again = by_name(kVmailUser);
  if (!again) return again.error();
  if (!*again) return Error::temp(std::string("user ") + kVmailUser + " missing after useradd");
  if ((*again)->uid == 0) return Error::perm(std::string("user ") + kVmailUser + " has uid 0");
  return **again;
}

Status give(const std::string& path, const MailOwner& owner) {
  if (::geteuid() != 0) return {};
  if (::lchown(path.c_str(), owner.uid, owner.gid) != 0) return Error::last("unable to chown " + path);
  return {};
}

Status replace_file(const std::string& path, const std::string& text) {
  struct stat st;
  mode_t mode = 0644;
  bool had = ::stat(path.c_str(), &st) == 0;
  if (had) {
    mode = st.st_mode & 07777;
  } else if (::stat(dir_of(path).c_str(), &st) != 0) {
    return Error::last("unable to stat " + dir_of(path));
  }
  if (auto w = write_file_atomic(path, text, mode); !w) return w;
  if (::geteuid() == 0 && ::chown(path.c_str(), st.st_uid, st.st_gid) != 0)
    return Error::last("unable to chown " + path);
  if (::geteuid() == 0 && ::chmod(path.c_str(), mode) != 0)
    return Error::last("unable to chmod " + path);
  return {};
}

Result<std::vector<std::string>> list_dir(const std::string& path) {
  std::vector<std::string> names;
  DIR* d = ::opendir(path.c_str());
  if (!d) {
    if (errno == ENOENT) return names;
    return Error::last("unable to list " + path);
  }
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
    errno = 0;
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) return Error::sys(err, "unable to list " + path);
  std::sort(names.begin(), names.end());
  return names;
}

Status remove_password(const std::string& dir, const std::string& address) {
  const std::string users = dir + "/users";
  auto fd = open_dir(users);
  if (!fd) return fd.error();
  if (auto l = lock_exclusive(fd->get(), true, kLockSeconds); !l)
    return Error::sys(l.error().code(), "unable to lock " + users);
  const std::string path = passwd_path(dir);
  auto text = read_file(path, kMaxPasswdBytes);
  if (!text) {
    if (text.error().code() == ENOENT) return {};
    return Error::sys(text.error().code(), "unable to read " + path);
  }
  std::string out;
  bool removed = false;
  size_t pos = 0;
  const std::string key = address + ":";
  while (pos < text->size()) {
    size_t nl = text->find('\n', pos);
    if (nl == std::string::npos) nl = text->size();
    std::string line = text->substr(pos, nl - pos);
    pos = nl + 1;
    std::string low = line.substr(0, std::min(line.size(), key.size()));
    for (char& c : low)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (low == key) {
      removed = true;
      continue;
    }
    out += line + "\n";
  }
  if (!removed) return {};
  return replace_file(path, out);
}

}  // namespace qng::ctl
