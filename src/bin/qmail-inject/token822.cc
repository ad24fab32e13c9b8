// token822.cc: the RFC 822 lexer, address-list walker and folding printer.
#include "token822.h"

#include <algorithm>
#include <cstddef>
#include <optional>

namespace qng::inject {
namespace {

bool is_word(Tok t) {
  return t == Tok::kAtom || t == Tok::kQuote || t == Tok::kLiteral || t == Tok::kComment;
}

// Bytes that end an atom. ')' and ']' do not: they make it a quoted string.
bool ends_atom(char c) {
  switch (c) {
    case ' ': case '\t': case '\r': case '\n': case '(': case '[': case '"':
    case '<': case '>': case ';': case ':': case '@': case ',': case '.':
      return true;
    default:
      return false;
  }
}

// An atom that cannot be printed as one is printed as a quoted string.
bool atom_printable(const std::string& s) {
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 32 || c > 126 || c == ')' || c == ']' || c == '\\') return false;
  }
  return true;
}

std::optional<Tok> special(char c) {
  switch (c) {
    case '.': return Tok::kDot;
    case ',': return Tok::kComma;
    case '@': return Tok::kAt;
    case '<': return Tok::kLeft;
    case '>': return Tok::kRight;
    case ':': return Tok::kColon;
    case ';': return Tok::kSemi;
    default: return std::nullopt;
  }
}

// Reads a delimited word starting after its opening byte at text[i]; i ends
// on the closing byte. Comments nest; the nested parentheses are dropped.
bool read_delimited(std::string_view text, size_t& i, char close, bool nests,
                    std::string& out) {
  int level = 1;
  for (;;) {
    if (++i >= text.size()) return false;
    char c = text[i];
    if (nests && c == '(') {
      ++level;
      continue;
    }
    if (c == close) {
      if (--level == 0) return true;
      continue;
    }
    if (c == '\\' && ++i >= text.size()) return false;
    out.push_back(text[i]);
  }
}

bool need_space(std::optional<Tok> last, Tok next) {
  if (!last) return false;
  if (*last == Tok::kColon || *last == Tok::kComma) return true;
  if (next == Tok::kLeft) return true;
  return is_word(*last) && is_word(next);
}

void put_escaped(std::string& out, const std::string& s) {
  for (char c : s) {
    switch (c) {
      case '"': case '[': case ']': case '(': case ')': case '\\': case '\r': case '\n':
        out.push_back('\\');
        break;
      default:
        break;
    }
    out.push_back(c);
  }
}

}  // namespace

bool tokenize(std::string_view text, Tokens& out) {
  out.clear();
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (auto s = special(c)) {
      out.push_back({*s, {}});
      continue;
    }
    switch (c) {
      case ' ': case '\t': case '\r': case '\n':
        continue;
      case ')': case ']':
        return false;
      case '(': {
        Token t{Tok::kComment, {}};
        if (!read_delimited(text, i, ')', true, t.text)) return false;
        out.push_back(std::move(t));
        continue;
      }
      case '"': {
        Token t{Tok::kQuote, {}};
        if (!read_delimited(text, i, '"', false, t.text)) return false;
        out.push_back(std::move(t));
        continue;
      }
      case '[': {
        Token t{Tok::kLiteral, {}};
        if (!read_delimited(text, i, ']', false, t.text)) return false;
        out.push_back(std::move(t));
        continue;
      }
      default:
        break;
    }
    // An atom: up to the next byte that ends one; '\' takes the next byte
    // as it is (a '\' at the very end is dropped).
    Token t{Tok::kAtom, {}};
    for (;;) {
      if (text[i] == '\\' && ++i >= text.size()) break;
      t.text.push_back(text[i]);
      if (++i >= text.size() || ends_atom(text[i])) break;
    }
    --i;
    if (!atom_printable(t.text)) t.type = Tok::kQuote;
    out.push_back(std::move(t));
  }
  return true;
}

std::string unparse(const Tokens& tokens, size_t linelen) {
  std::string out;
  size_t line_begin = 0;               // where the current output line starts
  std::optional<size_t> pending;       // a tentative "\n " line break

  // After a comma (and at the end): break here, and keep the previous
  // tentative break only if the line up to here would be too long without
  // it. The length is measured before the old break goes, as qmail does.
  auto fold = [&] {
    if (pending && (linelen == 0 || out.size() - line_begin <= linelen)) {
      out.erase(*pending, 2);
    } else if (pending) {
      line_begin = *pending + 1;
    }
    pending = out.size();
    out += "\n ";
  };

  std::optional<Tok> last;
  for (const Token& t : tokens) {
    if (need_space(last, t.type)) out.push_back(' ');
    last = t.type;
    switch (t.type) {
      case Tok::kComma: out.push_back(','); fold(); break;
      case Tok::kAt: out.push_back('@'); break;
      case Tok::kDot: out.push_back('.'); break;
      case Tok::kLeft: out.push_back('<'); break;
      case Tok::kRight: out.push_back('>'); break;
      case Tok::kSemi: out.push_back(';'); break;
      case Tok::kColon: out.push_back(':'); break;
      case Tok::kAtom:
        put_escaped(out, t.text);
        break;
      case Tok::kQuote:
        out.push_back('"');
        put_escaped(out, t.text);
        out.push_back('"');
        break;
      case Tok::kLiteral:
        out.push_back('[');
        put_escaped(out, t.text);
        out.push_back(']');
        break;
      case Tok::kComment:
        out.push_back('(');
        put_escaped(out, t.text);
        out.push_back(')');
        break;
    }
  }
  fold();
  out.pop_back();  // the space of the last break: the field ends with LF
  return out;
}

std::string unquote(const Tokens& tokens) {
  std::string out;
  for (const Token& t : tokens) {
    switch (t.type) {
      case Tok::kComma: out.push_back(','); break;
      case Tok::kAt: out.push_back('@'); break;
      case Tok::kDot: out.push_back('.'); break;
      case Tok::kLeft: out.push_back('<'); break;
      case Tok::kRight: out.push_back('>'); break;
      case Tok::kSemi: out.push_back(';'); break;
      case Tok::kColon: out.push_back(':'); break;
      case Tok::kLiteral: out += '[' + t.text + ']'; break;
      case Tok::kAtom: case Tok::kQuote: out += t.text; break;
      case Tok::kComment: break;
    }
  }
  return out;
}

bool rewrite_address_list(const Tokens& field, Tokens& out, const AddressFn& fn) {
  out.clear();
  if (field.size() < 2) {
    out = field;
    return true;
  }
  // RFC 822 address lists are easy to read from right to left. Both `rout`
  // and `addr` are built backwards and turned around at the end.
  Tokens rout;
  Tokens addr;
  auto got_address = [&] {
    std::reverse(addr.begin(), addr.end());
    fn(addr);
    rout.insert(rout.end(), addr.rbegin(), addr.rend());
    addr.clear();
  };
  auto flush = [&] {
    if (!addr.empty()) got_address();
  };
  auto flush_comma = [&] {
    if (addr.empty()) return;
    got_address();
    rout.push_back({Tok::kComma, {}});
  };

  const std::ptrdiff_t begin = 2;  // after the field name and its colon
  std::ptrdiff_t i = static_cast<std::ptrdiff_t>(field.size()) - 1;
  bool in_group = false;
  bool word_ok = true;  // a word here would not start a new address
  auto at = [&](std::ptrdiff_t k) -> const Token& { return field[static_cast<size_t>(k)]; };

  while (i >= begin) {
    const Token& t = at(i);
    switch (t.type) {
      case Tok::kSemi:  // end of a group (we read backwards)
        flush_comma();
        if (in_group) return false;
        in_group = true;
        word_ok = true;
        rout.push_back(at(i--));
        break;
      case Tok::kColon:  // start of the group: its name goes out as it is
        flush();
        if (!in_group) return false;
        in_group = false;
        while (i >= begin && at(i).type != Tok::kComma) rout.push_back(at(i--));
        if (i >= begin) rout.push_back(at(i--));
        word_ok = true;
        break;
      case Tok::kRight: {
        flush_comma();
        rout.push_back(at(i--));
        while (i >= begin && at(i).type != Tok::kLeft) addr.push_back(at(i--));
        got_address();  // even when empty: <>
        if (i < begin) return false;
        rout.push_back(at(i--));
        // The phrase before '<' goes out untouched.
        while (i >= begin) {
          Tok ty = at(i).type;
          if (ty != Tok::kComment && ty != Tok::kAtom && ty != Tok::kQuote &&
              ty != Tok::kAt && ty != Tok::kDot)
            break;
          rout.push_back(at(i--));
        }
        word_ok = false;
        break;
      }
      case Tok::kAtom: case Tok::kQuote: case Tok::kLiteral:
        if (!word_ok) flush_comma();
        word_ok = false;
        addr.push_back(at(i--));
        break;
      case Tok::kComment:  // lexically a space: word_ok stays
        rout.push_back(at(i--));
        break;
      case Tok::kComma:
        flush();
        word_ok = true;
        rout.push_back(at(i--));
        break;
      case Tok::kLeft:  // '<' without its '>'
        return false;
      case Tok::kAt: case Tok::kDot:
        word_ok = true;
        addr.push_back(at(i--));
        break;
    }
  }
  flush();
  rout.push_back(field[1]);
  rout.push_back(field[0]);
  out.assign(rout.rbegin(), rout.rend());
  return true;
}

}  // namespace qng::inject
