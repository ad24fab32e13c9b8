// session.h: one POP3 transaction-state session over a Maildir, as
// qmail-pop3d: STAT LIST UIDL RETR TOP DELE RSET LAST NOOP QUIT, and CAPA.
// Deletions happen at QUIT only; a broken connection changes nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "command.h"
#include "io.h"
#include "maildir_list.h"

namespace qng::pop3 {

class Session {
 public:
  // Reads commands from in_fd, answers on out_fd. maildir is the directory
  // the messages' names are relative to ("." when it is the cwd).
  Session(int in_fd, int out_fd, std::string maildir, std::vector<Message> messages,
          int timeout_ms = kTimeoutMs);

  // Says "+OK " and serves until QUIT, end of input, a timeout, a line
  // longer than kMaxCommandLine or a broken connection. True after QUIT.
  bool serve();

  const std::vector<Message>& messages() const { return m_; }

 private:
  using Handler = void (Session::*)(const std::string& arg);
  struct Verb {
    std::string_view name;
    Handler handler;
  };
  static const Verb kVerbs[];

  void okay();
  void err(std::string_view text);
  std::optional<size_t> msgno(std::string_view arg);
  void send_message(size_t i, uint64_t limit);
  void listing(const std::string& arg, bool uidl);

  void do_quit(const std::string& arg);
  void do_stat(const std::string& arg);
  void do_list(const std::string& arg);
  void do_uidl(const std::string& arg);
  void do_dele(const std::string& arg);
  void do_retr(const std::string& arg);
  void do_rset(const std::string& arg);
  void do_last(const std::string& arg);
  void do_top(const std::string& arg);
  void do_noop(const std::string& arg);
  void do_capa(const std::string& arg);

  Reader in_;
  Writer out_;
  std::string prefix_;  // "" or "maildir/"
  std::vector<Message> m_;
  size_t last_ = 0;      // highest message number deleted (LAST)
  bool quit_ = false;
  bool broken_ = false;  // a message could not be read: end the session
};

}  // namespace qng::pop3
