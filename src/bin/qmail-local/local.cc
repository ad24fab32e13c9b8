// local.cc: qmail-local's order of work (QMAIL-INTERFACES 8.4): home
// checks, the loop check, the envelope lines, the .qmail search, NEWSENDER,
// then each instruction in file order and the forwards at the end.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>

#include "error.h"
#include "fd.h"
#include "local.h"
#include "size.h"

namespace qng::local {
namespace {

constexpr mode_t kPatrn = 002;  // conf-patrn: bits forbidden on ~ and ~/.qmail*
constexpr size_t kChunk = 65536;

std::string why(int err) { return std::strerror(err); }

void say(int fd, std::string_view text) { (void)write_all(fd, text); }

Outcome temp_qmail(const std::string& name, int err) {
  return {111, "Unable to open " + name + ": " + why(err) + ". (#4.3.0)"};
}

Outcome check_home(bool doit) {
  struct stat st {};
  if (::stat(".", &st) == -1) {
    int err = errno;
    return {111, "Unable to stat home directory: " + why(err) + ". (#4.3.0)"};
  }
  if (st.st_mode & kPatrn) return {111, "Uh-oh: home directory is writable. (#4.7.0)"};
  if (st.st_mode & S_ISVTX) {
    if (doit)
      return {111, "Home directory is sticky: user is editing his .qmail file. (#4.2.1)"};
    say(2, "Warning: home directory is sticky.\n");
  }
  return {};
}

// qmail's bouncexf: a header line identical to ours means a loop.
Outcome check_loop(const std::string& dtline) {
  if (::lseek(0, 0, SEEK_SET) != 0) return {111, "Unable to rewind message. (#4.3.0)"};
  LoopScanner scan(dtline);
  std::string buf(kChunk, '\0');
  for (;;) {
    auto n = read_some(0, buf.data(), buf.size());
    if (!n) return {111, "Unable to read message: " + why(n.error().code()) + ". (#4.3.0)"};
    if (*n == 0) return {};
    switch (scan.feed(std::string_view(buf.data(), *n))) {
      case LoopScanner::State::kLooping:
        return {100, "This message is looping: it already has my Delivered-To line. (#5.4.6)"};
      case LoopScanner::State::kHeaderEnd:
        return {};
      case LoopScanner::State::kMore:
        break;
    }
  }
}

// The .qmail file that was found: its text and whether its x bit is set.
struct Found {
  bool exists = false;
  bool forward_only = false;
  std::optional<std::string> default_part;
  std::string text;
};

// qmail's qmeexists: only a regular file counts; open errors that may pass,
// and EACCES/EPERM, are temporary; a writable file is refused.
Outcome try_file(const Candidate& c, const std::string& ext, Found& found) {
  auto opened = open_flags(c.name, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (!opened) {
    int err = opened.error().code();
    if (is_temp(err) || err == EPERM || err == EACCES) return temp_qmail(c.name, err);
    return {};
  }
  struct stat st {};
  if (::fstat(opened->get(), &st) == -1) {
    int err = errno;
    return temp_qmail(c.name, err);
  }
  if (!S_ISREG(st.st_mode)) return {};
  if (st.st_mode & kPatrn) return {111, "Uh-oh: .qmail file is writable. (#4.7.0)"};
  found.exists = true;
  found.forward_only = (st.st_mode & 0100) != 0;
  if (c.default_at && *c.default_at <= ext.size()) found.default_part = ext.substr(*c.default_at);
  // Read it whole, within the cap.
  std::string buf(kChunk, '\0');
  for (;;) {
    auto n = read_some(opened->get(), buf.data(), buf.size());
    if (!n)
      return {111, "Unable to read " + c.name + ": " + why(n.error().code()) + ". (#4.3.0)"};
    if (*n == 0) break;
    if (!fits(found.text.size(), *n, kMaxDotQmail))
      return {111, "Unable to read " + c.name + ": " + why(EFBIG) + ". (#4.3.0)"};
    found.text.append(buf.data(), *n);
  }
  return {};
}

Outcome search(const Args& a, const std::string& safeext, Found& found) {
  for (const Candidate& c : dotqmail_candidates(a.dash, safeext)) {
    if (auto o = try_file(c, a.ext, found); !o.ok()) return o;
    if (found.exists) return {};
  }
  return {};
}

// qmail's qmeox: the -owner files only need to exist (stat).
Outcome owner_file(const Args& a, const std::string& safeext, const char* suffix, bool& exists) {
  std::string name = ".qmail" + a.dash + safeext + suffix;
  struct stat st {};
  exists = ::stat(name.c_str(), &st) == 0;
  int err = errno;
  if (!exists && is_temp(err)) return temp_qmail(name, err);
  return {};
}

Outcome set_env(const Env& env, bool has_default) {
  for (const auto& [name, value] : env)
    if (::setenv(name.c_str(), value.c_str(), 1) == -1) return {111, "Out of memory. (#4.3.0)"};
  if (!has_default) ::unsetenv("DEFAULT");
  return {};
}

}  // namespace

Outcome run(const Args& a) {
  if (a.homedir.empty() || a.homedir[0] != '/')
    return {100, "qmail-local: usage: qmail-local [ -nN ] user homedir local dash ext domain "
                 "sender aliasempty"};
  if (::chdir(a.homedir.c_str()) == -1) {
    int err = errno;
    return {111, "Unable to switch to " + a.homedir + ": " + why(err) + ". (#4.3.0)"};
  }
  if (auto o = check_home(a.doit); !o.ok()) return o;

  const EnvelopeLines lines = envelope_lines(a, ::time(nullptr));
  if (a.doit)
    if (auto o = check_loop(lines.dt); !o.ok()) return o;

  const std::string safeext = safe_ext(a.ext);
  Found found;
  if (auto o = search(a, safeext, found); !o.ok()) return o;
  if (!found.exists && !a.dash.empty())
    return {100, "Sorry, no mailbox here by that name. (#5.1.1)"};

  bool has_owner = false;
  bool has_owner_default = false;
  if (owner_rules_apply(a.sender)) {
    if (auto o = owner_file(a, safeext, "-owner", has_owner); !o.ok()) return o;
    if (has_owner)
      if (auto o = owner_file(a, safeext, "-owner-default", has_owner_default); !o.ok()) return o;
  }
  const std::string newsender = new_sender(a.sender, a.local, a.host, has_owner, has_owner_default);
  if (auto o = set_env(delivery_env(a, lines, newsender, found.default_part),
                       found.default_part.has_value());
      !o.ok())
    return o;

  bool forward_only = found.forward_only;
  std::string text = std::move(found.text);
  if (text.empty()) {
    text = a.defaultdelivery;
    forward_only = false;
  }

  unsigned long files = 0, forwards = 0, programs = 0;
  std::vector<std::string> recipients;
  bool stop = false;
  bool first = true;
  for (const Instruction& in : parse_instructions(text)) {
    const bool was_first = first;
    first = false;
    Outcome o;
    switch (in.kind) {
      case Kind::kBlank:
        if (was_first) return {111, "Uh-oh: first line of .qmail file is blank. (#4.2.1)"};
        break;
      case Kind::kComment:
      case Kind::kIgnored:
        break;
      case Kind::kForwardOnly:
        forward_only = true;
        break;
      case Kind::kMaildir:
      case Kind::kMbox:
        ++files;
        if (forward_only)
          return {111, "Uh-oh: .qmail has file delivery but has x bit set. (#4.7.0)"};
        if (!a.doit)
          say(1, (in.kind == Kind::kMaildir ? "maildir " : "mbox ") + in.arg + "\n");
        else if (in.kind == Kind::kMaildir)
          o = deliver_maildir(in.arg, lines);
        else
          o = deliver_mbox(in.arg, lines);
        break;
      case Kind::kProgram:
        ++programs;
        if (forward_only)
          return {111, "Uh-oh: .qmail has prog delivery but has x bit set. (#4.7.0)"};
        if (!a.doit)
          say(1, "program " + in.arg + "\n");
        else
          o = deliver_program(in.arg, stop);
        break;
      case Kind::kForward:
        ++forwards;
        if (!a.doit) {
          say(1, "forward " + in.arg + "\n");
        } else {
          if (recipients.size() >= kMaxForwards)
            return {111, "Uh-oh: .qmail has too many forwarding lines. (#4.7.0)"};
          recipients.push_back(in.arg);
        }
        break;
    }
    if (!o.ok()) return o;
    if (stop) break;
  }

  pid_t qp = 0;
  if (a.doit && !recipients.empty())
    if (auto o = forward(recipients, lines, newsender, qp); !o.ok()) return o;

  std::string did = "did " + std::to_string(files) + "+" + std::to_string(forwards) + "+" +
                    std::to_string(programs) + "\n";
  if (qp > 0) did += "qp " + std::to_string(qp) + "\n";
  say(1, did);
  return {};
}

}  // namespace qng::local
