// clean.cc: qmail-clean's commands and its pid/ sweep (qmail's qmail-clean.c).
#include "clean.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "fd.h"
#include "io.h"
#include "queue.h"
#include "size.h"

namespace qng {
namespace {

// unlink(2) where a file already gone counts as removed.
bool remove_file(const std::string& fn) {
  return ::unlink(fn.c_str()) == 0 || errno == ENOENT;
}

}  // namespace

char clean_command(std::string_view cmd) {
  // "todo/1" is the shortest command: 7 bytes with its NUL, as qmail checks.
  if (cmd.size() + 1 < 7 || cmd.size() + 1 > kCleanCommandMax) return 'x';
  std::string_view verb = cmd.substr(0, 5);
  auto id = parse_decimal(cmd.substr(5));
  if (!id) return 'x';
  if (verb == "foop/") {  // a finished message, or debris of states S2/S3
    if (!remove_file(intd_path(*id))) return '!';
    if (!remove_file(mess_path(*id))) return '!';
    return '+';
  }
  if (verb == "todo/") {  // preprocessed: S4 -> S5
    if (!remove_file(intd_path(*id))) return '!';
    if (!remove_file(todo_path(*id))) return '!';
    // qmail-send starts deliveries once we answer: the todo entry must not
    // come back after a crash, or the message would be preprocessed again
    // and its finished recipients delivered twice.
    if (!fsync_dir("todo")) return '!';
    return '+';
  }
  return 'x';
}

void clean_pid_dir(time_t now) {
  DIR* dir = ::opendir("pid");
  if (!dir) return;
  while (const dirent* d = ::readdir(dir)) {
    std::string name = d->d_name;
    if (name == "." || name == "..") continue;
    std::string fn = "pid/" + name;
    struct stat st;
    if (::stat(fn.c_str(), &st) == -1) continue;
    if (now < st.st_atime + kOssified) continue;
    ::unlink(fn.c_str());
  }
  ::closedir(dir);
}

int clean_loop(int in_fd, int out_fd) {
  Reader in(in_fd, 0, 256);
  int sweep_countdown = 0;
  for (;;) {
    if (sweep_countdown) {
      --sweep_countdown;
    } else {
      clean_pid_dir(::time(nullptr));
      sweep_countdown = 30;
    }
    // One command up to its NUL; bytes past the cap are read and dropped.
    std::string cmd;
    bool too_long = false;
    for (;;) {
      char c;
      auto got = in.get(c);
      if (!got || !*got) return 0;  // end of input (or a broken pipe): done
      if (c == '\0') break;
      if (cmd.size() < kCleanCommandMax) {
        cmd.push_back(c);
      } else {
        too_long = true;
      }
    }
    char answer = too_long ? 'x' : clean_command(cmd);
    if (!write_all(out_fd, std::string_view(&answer, 1))) return 100;
  }
}

}  // namespace qng
