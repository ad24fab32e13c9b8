// session.cc: qmail-pop3d's commands, with qmail's answers byte for byte.
#include "session.h"

#include <unistd.h>

#include <cerrno>

#include "address.h"
#include "blast.h"
#include "fd.h"

namespace qng::pop3 {

const Session::Verb Session::kVerbs[] = {
    {"quit", &Session::do_quit}, {"stat", &Session::do_stat}, {"list", &Session::do_list},
    {"uidl", &Session::do_uidl}, {"dele", &Session::do_dele}, {"retr", &Session::do_retr},
    {"rset", &Session::do_rset}, {"last", &Session::do_last}, {"top", &Session::do_top},
    {"noop", &Session::do_noop}, {"capa", &Session::do_capa},
};

Session::Session(int in_fd, int out_fd, std::string maildir, std::vector<Message> messages,
                 int timeout_ms)
    : in_(in_fd, timeout_ms),
      out_(out_fd, timeout_ms),
      prefix_(maildir.empty() || maildir == "." ? std::string() : maildir + "/"),
      m_(std::move(messages)) {}

void Session::okay() { out_.put("+OK \r\n"); }

void Session::err(std::string_view text) {
  out_.put("-ERR ");
  out_.put(text);
  out_.put("\r\n");
}

bool Session::serve() {
  okay();
  std::string line;
  while (!quit_ && !broken_ && !out_.failed()) {
    // Answers go out before we wait; a pipelined batch is answered at once.
    if (in_.buffered() == 0 && !out_.flush()) return false;
    auto got = in_.read_line(line, kMaxCommandLine);
    if (!got) {
      if (got.error().code() == E2BIG) {
        err("command too long");
        (void)out_.flush();
      }
      return false;
    }
    if (!*got || line.back() != '\n') return false;  // end of input, or a partial line
    Command cmd = split_command(line);
    Handler handler = nullptr;
    for (const auto& v : kVerbs) {
      if (iequals(cmd.verb, v.name)) {
        handler = v.handler;
        break;
      }
    }
    if (handler)
      (this->*handler)(cmd.arg);
    else
      err("unimplemented");
  }
  if (!out_.flush()) return false;
  return quit_;
}

std::optional<size_t> Session::msgno(std::string_view arg) {
  Number n = scan_number(arg);
  if (n.digits == 0) {
    err("syntax error");
    return std::nullopt;
  }
  if (n.value == 0) {
    err("messages are counted from 1");
    return std::nullopt;
  }
  if (n.value > m_.size()) {
    err("not that many messages");
    return std::nullopt;
  }
  size_t i = static_cast<size_t>(n.value - 1);
  if (m_[i].deleted) {
    err("already deleted");
    return std::nullopt;
  }
  return i;
}

void Session::do_quit(const std::string&) {
  bool unlinked_all = true;
  bool renamed = false;
  for (const auto& m : m_) {
    const std::string path = prefix_ + m.fn;
    if (m.deleted) {
      if (::unlink(path.c_str()) == -1 && errno != ENOENT) unlinked_all = false;
    } else if (m.fn.compare(0, 4, "new/") == 0) {
      const std::string to = prefix_ + "cur/" + m.fn.substr(4) + ":2,";
      if (::rename(path.c_str(), to.c_str()) == 0) renamed = true;  // if it fails, bummer
    }
  }
  // Best effort: the changes reach the disk before we say +OK.
  (void)fsync_dir(prefix_ + "cur");
  if (renamed) (void)fsync_dir(prefix_ + "new");
  if (unlinked_all)
    okay();
  else
    err("unable to unlink all deleted messages");
  quit_ = true;
}

void Session::do_stat(const std::string&) {
  // Deleted messages count in neither number (RFC 1939; qmail 1.03 still
  // counted them in the first).
  uint64_t count = 0, total = 0;
  for (const auto& m : m_) {
    if (m.deleted) continue;
    ++count;
    total += m.size;
  }
  out_.put("+OK ");
  out_.put_number(count);
  out_.put(" ");
  out_.put_number(total);
  out_.put("\r\n");
}

void Session::listing(const std::string& arg, bool uidl) {
  auto one = [&](size_t i) {
    out_.put_number(i + 1);
    out_.put(" ");
    if (uidl)
      out_.put(unique_name(m_[i].fn));
    else
      out_.put_number(m_[i].size);
    out_.put("\r\n");
  };
  if (!arg.empty()) {
    auto i = msgno(arg);
    if (!i) return;
    out_.put("+OK ");
    one(*i);
    return;
  }
  okay();
  for (size_t i = 0; i < m_.size(); ++i)
    if (!m_[i].deleted) one(i);
  out_.put(".\r\n");
}

void Session::do_list(const std::string& arg) { listing(arg, false); }
void Session::do_uidl(const std::string& arg) { listing(arg, true); }

void Session::do_dele(const std::string& arg) {
  auto i = msgno(arg);
  if (!i) return;
  m_[*i].deleted = true;
  if (*i + 1 > last_) last_ = *i + 1;
  okay();
}

void Session::send_message(size_t i, uint64_t limit) {
  auto fd = open_read(prefix_ + m_[i].fn);
  if (!fd) {
    err("unable to open that message");
    return;
  }
  okay();
  Blaster blaster(limit);
  std::string out;
  char buf[65536];
  for (;;) {
    auto n = read_some(fd->get(), buf, sizeof buf);
    if (!n) {  // qmail dies here: the client sees the message cut short
      broken_ = true;
      return;
    }
    if (*n == 0) break;
    out.clear();
    bool more = blaster.feed(std::string_view(buf, *n), out);
    out_.put(out);
    if (!more || out_.failed()) break;
  }
  out.clear();
  blaster.finish(out);
  out_.put(out);
}

void Session::do_retr(const std::string& arg) {
  auto i = msgno(arg);
  if (!i) return;
  send_message(*i, 0);
}

void Session::do_top(const std::string& arg) {
  auto i = msgno(arg);
  if (!i) return;
  std::string_view rest(arg);
  rest.remove_prefix(scan_number(rest).digits);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  Number lines = scan_number(rest);
  // qmail: limit = k + 1; no k (or one too big to count) is the whole message.
  uint64_t limit = lines.digits && lines.value < UINT64_MAX ? lines.value + 1 : 0;
  send_message(*i, limit);
}

void Session::do_rset(const std::string&) {
  for (auto& m : m_) m.deleted = false;
  last_ = 0;
  okay();
}

void Session::do_last(const std::string&) {
  out_.put("+OK ");
  out_.put_number(last_);
  out_.put("\r\n");
}

void Session::do_noop(const std::string&) { okay(); }

void Session::do_capa(const std::string&) {
  out_.put("+OK capability list follows\r\nTOP\r\nUIDL\r\nPIPELINING\r\n");
  out_.put(kImplementation);
  out_.put("\r\n.\r\n");
}

}  // namespace qng::pop3
