// mbox.cc: From_ lines and mboxrd quoting.
#include "mbox.h"

#include "date.h"

namespace qng {
namespace {

constexpr std::string_view kFrom = "From ";

}  // namespace

bool mbox_needs_quote(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && line[i] == '>') ++i;
  return line.substr(i).starts_with(kFrom);
}

std::string mbox_from_line(std::string_view sender, time_t t) {
  std::string out = "From ";
  if (sender.empty()) {
    out += "MAILER-DAEMON";
  } else {
    for (char c : sender) out.push_back(c == ' ' || c == '\t' || c == '\n' ? '-' : c);
  }
  out += ' ';
  out += ctime_gmt(t);
  out += '\n';
  return out;
}

void MboxQuoter::feed(std::string_view chunk, std::string& out) {
  if (chunk.empty()) return;
  empty_ = false;
  last_ = chunk.back();
  for (char c : chunk) {
    if (!line_start_) {
      out.push_back(c);
      if (c == '\n') line_start_ = true;
      continue;
    }
    if (matched_ == 0 && c == '>') {
      out.push_back(c);
      continue;
    }
    if (c == kFrom[matched_]) {
      if (++matched_ == kFrom.size()) {
        out.push_back('>');
        out.append(kFrom);
        matched_ = 0;
        line_start_ = false;
      }
      continue;
    }
    out.append(kFrom.substr(0, matched_));
    matched_ = 0;
    out.push_back(c);
    line_start_ = c == '\n';
  }
}

void MboxQuoter::finish(std::string& out) {
  out.append(kFrom.substr(0, matched_));
  matched_ = 0;
  if (!empty_ && last_ != '\n') out.push_back('\n');
  line_start_ = true;
  empty_ = true;
  last_ = '\n';
}

}  // namespace qng
