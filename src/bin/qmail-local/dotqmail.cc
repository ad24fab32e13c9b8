// dotqmail.cc: qmail-local's pure logic: envelope lines, the .qmail search
// order, NEWSENDER, the program environment, instruction lines, loop scan.
#include <algorithm>

#include "address.h"
#include "local.h"
#include "mbox.h"

namespace qng::local {
namespace {

constexpr std::string_view kDefault = "default";

std::string newlines_to_underscores(std::string s) {
  std::replace(s.begin(), s.end(), '\n', '_');
  return s;
}

}  // namespace

std::string delivered_to_line(std::string_view local, std::string_view host) {
  std::string line = "Delivered-To: ";
  line += local;
  line += '@';
  line += host;
  return newlines_to_underscores(std::move(line)) + "\n";
}

std::string return_path_line(std::string_view sender) {
  std::string line = "Return-Path: <" + quote_address(sender);
  return newlines_to_underscores(std::move(line)) + ">\n";
}

EnvelopeLines envelope_lines(const Args& a, time_t now) {
  return {delivered_to_line(a.local, a.host), return_path_line(a.sender),
          mbox_from_line(a.sender, now)};
}

std::string safe_ext(std::string_view ext) {
  std::string s = lowercase(ext);
  std::replace(s.begin(), s.end(), '.', ':');
  return s;
}

// Tried in this order (dash "-"):
//   ""      -> .qmail-, .qmail-default
//   "a-b"   -> .qmail-a-b, .qmail-a-default, .qmail-default
//   "a-b-"  -> .qmail-a-b-, .qmail-a-b-default, .qmail-a-default, .qmail-default
// and with an empty dash and ext, as qmail: .qmail, .qmaildefault.
std::vector<Candidate> dotqmail_candidates(std::string_view dash, std::string_view safeext) {
  std::vector<Candidate> out;
  const std::string base = ".qmail" + std::string(dash);
  // An exact match whose name ends in "default" still sets DEFAULT (qmail).
  std::optional<size_t> exact_default;
  if (safeext.ends_with(kDefault)) exact_default = safeext.size() - kDefault.size();
  out.push_back({base + std::string(safeext), exact_default});
  for (size_t i = safeext.size() + 1; i-- > 0;) {
    if (i != 0 && safeext[i - 1] != '-') continue;
    out.push_back({base + std::string(safeext.substr(0, i)) + std::string(kDefault), i});
  }
  return out;
}

bool owner_rules_apply(std::string_view sender) { return !sender.empty() && sender != "#@[]"; }

std::string new_sender(std::string_view sender, std::string_view local, std::string_view host,
                       bool has_owner, bool has_owner_default) {
  if (!owner_rules_apply(sender) || !has_owner) return std::string(sender);
  std::string s(local);
  if (has_owner_default) return s + "-owner-@" + std::string(host) + "-@[]";
  return s + "-owner@" + std::string(host);
}

std::string ext_part(std::string_view ext, int n) {
  for (int i = 1; i < n; ++i) {
    size_t dash = ext.find('-');
    if (dash == std::string_view::npos) return "";
    ext.remove_prefix(dash + 1);
  }
  return std::string(ext);
}

std::string host_part(std::string_view host, int n) {
  size_t end = host.size();
  for (int i = 1; i < n; ++i) {
    size_t dot = end == 0 ? std::string_view::npos : host.rfind('.', end - 1);
    if (dot != std::string_view::npos) end = dot;
  }
  return std::string(host.substr(0, end));
}

Env delivery_env(const Args& a, const EnvelopeLines& lines, const std::string& newsender,
                 const std::optional<std::string>& default_part) {
  Env env = {
      {"HOST", a.host},
      {"HOME", a.homedir},
      {"USER", a.user},
      {"LOCAL", a.local},
      {"RECIPIENT", a.local + "@" + a.host},
      {"DTLINE", lines.dt},
      {"SENDER", a.sender},
      {"RPLINE", lines.rp},
      {"UFLINE", lines.uf},
      {"EXT", a.ext},
      {"EXT2", ext_part(a.ext, 2)},
      {"EXT3", ext_part(a.ext, 3)},
      {"EXT4", ext_part(a.ext, 4)},
      {"HOST2", host_part(a.host, 2)},
      {"HOST3", host_part(a.host, 3)},
      {"HOST4", host_part(a.host, 4)},
  };
  if (default_part) env.emplace_back("DEFAULT", *default_part);
  env.emplace_back("NEWSENDER", newsender);
  return env;
}

std::vector<Instruction> parse_instructions(std::string_view text) {
  std::vector<Instruction> out;
  // As qmail: empty text is one (blank) line, so an empty default delivery
  // is an error rather than a silent loss of the message.
  if (text.empty()) return {{Kind::kBlank, ""}};
  while (!text.empty()) {
    size_t lf = text.find('\n');
    std::string_view line = text.substr(0, lf);
    text.remove_prefix(lf == std::string_view::npos ? text.size() : lf + 1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    // Lines are C strings to qmail: nothing after a NUL counts.
    auto cut = [](std::string_view s) { return std::string(s.substr(0, s.find('\0'))); };
    if (line.empty()) {
      out.push_back({Kind::kBlank, ""});
      continue;
    }
    switch (line.front()) {
      case '#':
        out.push_back({Kind::kComment, cut(line)});
        break;
      case '.':
      case '/':
        out.push_back({line.back() == '/' ? Kind::kMaildir : Kind::kMbox, cut(line)});
        break;
      case '|':
        out.push_back({Kind::kProgram, cut(line.substr(1))});
        break;
      case '+':
        out.push_back({cut(line.substr(1)) == "list" ? Kind::kForwardOnly : Kind::kIgnored,
                       cut(line.substr(1))});
        break;
      case '&':
        out.push_back({Kind::kForward, cut(line.substr(1))});
        break;
      default:
        out.push_back({Kind::kForward, cut(line)});
        break;
    }
  }
  return out;
}

LoopScanner::State LoopScanner::feed(std::string_view chunk) {
  for (char c : chunk) {
    if (state_ != State::kMore) break;
    if (pos_ == 0 && c == '\n') {
      state_ = State::kHeaderEnd;
      break;
    }
    if (same_ && (pos_ >= dt_.size() || dt_[pos_] != c)) same_ = false;
    ++pos_;
    if (c == '\n') {
      if (same_ && pos_ == dt_.size()) state_ = State::kLooping;
      pos_ = 0;
      same_ = true;
    }
  }
  return state_;
}

Outcome program_outcome(bool crashed, int code, bool& stop) {
  if (crashed) return {111, "Aack, child crashed. (#4.3.0)"};
  switch (code) {
    case 0:
      return {};
    case 99:
      stop = true;
      return {};
    case 100: case 64: case 65: case 70: case 76: case 77: case 78: case 112:
      return {100, ""};
    default:
      return {111, ""};
  }
}

}  // namespace qng::local
