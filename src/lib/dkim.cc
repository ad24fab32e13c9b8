// dkim.cc: DKIM signing and key generation (dkim.h, docs/dkim.md).
#include "dkim.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "fd.h"
#include "size.h"

namespace qng {

void DkimPkeyFree::operator()(evp_pkey_st* p) const { EVP_PKEY_free(p); }
void DkimMdFree::operator()(evp_md_ctx_st* p) const { EVP_MD_CTX_free(p); }

namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

// The newest OpenSSL error as text, for an Error's context.
std::string ssl_error() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using Bio = std::unique_ptr<BIO, BioFree>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, DkimMdFree>;

// Never prompt for a pass phrase: an encrypted key is an unusable key.
int no_password(char*, int, int, void*) { return -1; }

}  // namespace

const char* dkim_algo_name(DkimAlgo algo) {
  return algo == DkimAlgo::kRsaSha256 ? "rsa-sha256" : "ed25519-sha256";
}

// ---------------------------------------------------------------------------
// The pieces.

namespace dkim {

std::string base64(std::string_view data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<unsigned>(static_cast<unsigned char>(data[k])); };
  for (; data.size() - i >= 3; i += 3) {
    unsigned v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
    out += kAlphabet[v >> 6 & 63];
    out += kAlphabet[v & 63];
  }
  if (data.size() - i == 1) {
    unsigned v = byte(i) << 16;
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
    out += "==";
  } else if (data.size() - i == 2) {
    unsigned v = byte(i) << 16 | byte(i + 1) << 8;
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
    out += kAlphabet[v >> 6 & 63];
    out += '=';
  }
  return out;
}

std::string relaxed_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool space = false;
  for (char c : value) {
    if (c == '\r' || c == '\n') continue;  // unfold
    if (is_wsp(c)) {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string relaxed_header(std::string_view name, std::string_view value) {
  std::string n(name);
  while (!n.empty() && is_wsp(n.back())) n.pop_back();
  return lowercase(n) + ":" + relaxed_value(value) + "\r\n";
}

void BodyCanon::eol(std::string& out) {
  if (line_nonempty_)
    out += "\r\n";
  else
    ++empty_lines_;
  space_ = line_nonempty_ = line_open_ = false;
}

void BodyCanon::feed(std::string_view in, std::string& out) {
  for (char c : in) {
    if (pending_cr_) {
      pending_cr_ = false;
      if (c == '\n') continue;  // the CR already ended the line
    }
    if (c == '\r') {
      pending_cr_ = true;
      eol(out);
      continue;
    }
    if (c == '\n') {
      eol(out);
      continue;
    }
    line_open_ = true;
    if (is_wsp(c)) {
      space_ = true;
      continue;
    }
    if (!line_nonempty_) {
      // Empty lines count only when something follows them.
      for (; empty_lines_ > 0; --empty_lines_) out += "\r\n";
      line_nonempty_ = true;
    }
    if (space_) out += ' ';
    space_ = false;
    out += c;
  }
}

void BodyCanon::finish(std::string& out) {
  // A partial last line goes out with CRLF appended (qmail-remote does so).
  if (line_open_) eol(out);
  pending_cr_ = false;
  empty_lines_ = 0;
}

Folder::Folder(std::string start) : out_(std::move(start)), col_(out_.size()) {}

void Folder::word(std::string_view w, bool space) {
  size_t need = w.size() + (space ? 1 : 0);
  if (col_ > 1 && need > static_cast<size_t>(kDkimWidth) - std::min<size_t>(col_, kDkimWidth)) {
    out_ += "\n\t";
    col_ = 1;
    space = false;
    need = w.size();
  }
  if (space) out_ += ' ';
  out_ += w;
  col_ += need;
}

void Folder::breakable(std::string_view s) {
  while (!s.empty()) {
    size_t room = col_ < static_cast<size_t>(kDkimWidth) ? kDkimWidth - col_ : 0;
    if (room == 0) {
      out_ += "\n\t";
      col_ = 1;
      continue;
    }
    size_t n = std::min(room, s.size());
    out_ += s.substr(0, n);
    col_ += n;
    s.remove_prefix(n);
  }
}

const std::vector<std::string_view>& sign_list() {
  // RFC 6376 5.4.1's list plus the fields that carry the message's meaning.
  static const std::vector<std::string_view> kList = {
      "from", "sender", "reply-to", "subject", "date", "message-id", "to", "cc",
      "mime-version", "content-type", "content-transfer-encoding", "content-id",
      "content-description", "resent-date", "resent-from", "resent-sender", "resent-to",
      "resent-cc", "resent-message-id", "in-reply-to", "references", "list-id", "list-help",
      "list-unsubscribe", "list-unsubscribe-post", "list-subscribe", "list-post", "list-owner",
      "list-archive",
  };
  return kList;
}

namespace {

bool valid_label(std::string_view l) {
  if (l.empty() || l.size() > 63) return false;
  for (char c : l) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return l.front() != '-' && l.back() != '-';
}

bool valid_labels(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  for (;;) {
    size_t dot = s.find('.', start);
    std::string_view label =
        s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!valid_label(label)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// A From: value with comments dropped and quoted strings replaced by `""`,
// so that only the structure is left: display names, <>, @, commas, ':'.
std::string strip_comments_and_quotes(std::string_view v) {
  std::string out;
  size_t depth = 0;
  bool quoted = false;
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (quoted) {
      if (c == '\\') ++i;
      else if (c == '"') {
        quoted = false;
        out += "\"\"";
      }
      continue;
    }
    if (depth > 0) {
      if (c == '\\') ++i;
      else if (c == '(') ++depth;
      else if (c == ')') --depth;
      continue;
    }
    if (c == '"') quoted = true;
    else if (c == '(') {
      depth = 1;
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
  return s;
}

std::optional<std::string> domain_of_addr_spec(std::string_view spec) {
  spec = trim(spec);
  size_t at = spec.rfind('@');
  if (at == std::string_view::npos) return std::nullopt;
  std::string d = lowercase(trim(spec.substr(at + 1)));
  if (!d.empty() && d.back() == '.') d.pop_back();
  if (!valid_domain(d)) return std::nullopt;
  return d;
}

}  // namespace

bool valid_domain(std::string_view d) { return valid_labels(d); }

bool valid_selector(std::string_view s) { return valid_labels(s); }

std::optional<std::string> address_domain(std::string_view from_value) {
  std::string s = strip_comments_and_quotes(from_value);
  std::string_view v(s);
  size_t lt = v.find('<');
  if (lt != std::string_view::npos) {
    size_t gt = v.find('>', lt);
    if (gt == std::string_view::npos) return std::nullopt;
    std::string_view inner = v.substr(lt + 1, gt - lt - 1);
    size_t colon = inner.rfind(':');  // obsolete source route @a,@b:user@dom
    if (colon != std::string_view::npos) inner.remove_prefix(colon + 1);
    return domain_of_addr_spec(inner);
  }
  size_t colon = v.find(':');  // group: name: a@b, c@d;
  if (colon != std::string_view::npos) v.remove_prefix(colon + 1);
  size_t end = v.find_first_of(",;");
  if (end != std::string_view::npos) v = v.substr(0, end);
  return domain_of_addr_spec(v);
}

std::optional<std::string> envelope_domain(std::string_view sender) {
  size_t at = sender.rfind('@');
  std::string d = lowercase(at == std::string_view::npos ? sender : sender.substr(at + 1));
  if (!d.empty() && d.back() == '.') d.pop_back();
  if (!valid_domain(d)) return std::nullopt;
  return d;
}

std::string txt_strings(std::string_view text) {
  std::string out;
  while (!text.empty()) {
    size_t n = std::min<size_t>(255, text.size());
    if (!out.empty()) out += ' ';
    out += '"';
    out += text.substr(0, n);
    out += '"';
    text.remove_prefix(n);
  }
  if (out.empty()) out = "\"\"";
  return out;
}

}  // namespace dkim

// ---------------------------------------------------------------------------
// The message.

DkimMessage::DkimMessage() : sha_(EVP_MD_CTX_new()) {
  if (!sha_ || EVP_DigestInit_ex(sha_.get(), EVP_sha256(), nullptr) != 1)
    error_ = Error::temp("unable to set up SHA-256: " + ssl_error());
}

void DkimMessage::header_eol() {
  switch (state_) {
    case State::kLineStart:  // the empty line: the body follows
      in_body_ = true;
      break;
    case State::kName:  // no colon: not a field; continuation lines are not its
      last_kept_ = false;
      break;
    case State::kValue:
    case State::kSkip:
      break;
  }
  name_.clear();
  state_ = State::kLineStart;
}

void DkimMessage::header_char(char c) {
  switch (state_) {
    case State::kLineStart:
      if (is_wsp(c)) {
        state_ = last_kept_ ? State::kValue : State::kSkip;
        if (state_ == State::kValue) header_char(c);
        return;
      }
      last_kept_ = false;
      state_ = State::kName;
      name_.assign(1, c);
      if (c == ':') {
        name_.clear();
        state_ = State::kSkip;  // no name: not a field
      }
      return;
    case State::kName: {
      if (c != ':') {
        if (name_.size() >= 998) {
          state_ = State::kSkip;  // no colon within a line's length: not a field
          return;
        }
        name_ += c;
        return;
      }
      std::string_view n(name_);
      while (!n.empty() && is_wsp(n.back())) n.remove_suffix(1);
      bool valid = !n.empty();
      for (char k : n)
        if (static_cast<unsigned char>(k) <= 0x20 || static_cast<unsigned char>(k) >= 0x7f)
          valid = false;
      std::string lname = lowercase(n);
      const auto& list = dkim::sign_list();
      bool keep = valid && std::find(list.begin(), list.end(), lname) != list.end();
      if (keep && !error_) {
        if (fields_.size() >= kDkimMaxSignedFields) {
          error_ = Error::perm("more than " + std::to_string(kDkimMaxSignedFields) +
                               " header fields to sign");
        } else if (!fits(kept_bytes_, lname.size(), kDkimMaxHeaderBytes)) {
          error_ = Error::perm("header fields to sign longer than " +
                               std::to_string(kDkimMaxHeaderBytes) + " bytes");
        } else {
          kept_bytes_ += lname.size();
          fields_.push_back({std::move(lname), {}});
        }
      }
      last_kept_ = keep && !error_;
      state_ = last_kept_ ? State::kValue : State::kSkip;
      return;
    }
    case State::kValue:
      if (kept_bytes_ >= kDkimMaxHeaderBytes) {
        if (!error_)
          error_ = Error::perm("header fields to sign longer than " +
                               std::to_string(kDkimMaxHeaderBytes) + " bytes");
        last_kept_ = false;
        state_ = State::kSkip;
        return;
      }
      ++kept_bytes_;
      fields_.back().value += c;
      return;
    case State::kSkip:
      return;
  }
}

void DkimMessage::feed(std::string_view data) {
  if (finished_) return;
  size_t i = 0;
  for (; i < data.size() && !in_body_; ++i) {
    char c = data[i];
    if (pending_cr_) {
      pending_cr_ = false;
      if (c == '\n') continue;
    }
    if (c == '\r') {
      pending_cr_ = true;
      header_eol();
    } else if (c == '\n') {
      header_eol();
    } else {
      header_char(c);
    }
  }
  if (i == data.size()) return;
  // The body: the header's last line break may be a CR whose LF comes now.
  if (pending_cr_) {
    pending_cr_ = false;
    if (data[i] == '\n') ++i;
  }
  chunk_.clear();
  body_.feed(data.substr(i), chunk_);
  if (!chunk_.empty() && sha_ && EVP_DigestUpdate(sha_.get(), chunk_.data(), chunk_.size()) != 1 &&
      !error_)
    error_ = Error::temp("SHA-256 failed: " + ssl_error());
}

void DkimMessage::finish() {
  if (finished_) return;
  finished_ = true;
  chunk_.clear();
  body_.finish(chunk_);
  if (!sha_) return;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if ((!chunk_.empty() && EVP_DigestUpdate(sha_.get(), chunk_.data(), chunk_.size()) != 1) ||
      EVP_DigestFinal_ex(sha_.get(), md, &len) != 1) {
    if (!error_) error_ = Error::temp("SHA-256 failed: " + ssl_error());
    return;
  }
  body_hash_ = dkim::base64(std::string_view(reinterpret_cast<const char*>(md), len));
}

std::optional<std::string> DkimMessage::from_domain() const {
  for (const auto& f : fields_)
    if (f.name == "from") return dkim::address_domain(f.value);
  return std::nullopt;
}

std::vector<std::string> DkimMessage::signed_names() const {
  std::vector<std::string> names;
  for (std::string_view n : dkim::sign_list()) {
    size_t count = 0;
    for (const auto& f : fields_) count += f.name == n;
    if (n == "from") ++count;  // oversigned: no From may be added
    for (size_t k = 0; k < count; ++k) names.emplace_back(n);
  }
  return names;
}

std::string DkimMessage::canonical_headers(const std::vector<std::string>& names) const {
  std::string out;
  std::vector<std::pair<std::string_view, size_t>> used;  // name, instances taken
  for (const auto& n : names) {
    auto it = std::find_if(used.begin(), used.end(), [&](const auto& u) { return u.first == n; });
    if (it == used.end()) it = used.insert(used.end(), {n, 0});
    size_t skip = it->second++;
    for (size_t i = fields_.size(); i-- > 0;) {
      if (fields_[i].name != n) continue;
      if (skip-- == 0) {
        out += dkim::relaxed_header(fields_[i].name, fields_[i].value);
        break;
      }
    }
  }
  return out;
}

namespace dkim {

Result<std::string> sign_data(const DkimKey& key, std::string_view data) {
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx) return Error::temp("out of memory");
  std::string to_sign;
  const EVP_MD* md = nullptr;
  if (key.algo == DkimAlgo::kRsaSha256) {
    md = EVP_sha256();
    to_sign.assign(data);
  } else {
    // RFC 8463 3: Ed25519 (PureEdDSA) signs the SHA-256 hash of the data.
    unsigned char h[EVP_MAX_MD_SIZE];
    unsigned int hl = 0;
    if (EVP_Digest(data.data(), data.size(), h, &hl, EVP_sha256(), nullptr) != 1)
      return Error::temp("SHA-256 failed: " + ssl_error());
    to_sign.assign(reinterpret_cast<const char*>(h), hl);
  }
  if (EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key.pkey.get()) != 1)
    return Error::temp("DKIM key " + key.path + ": unable to sign: " + ssl_error());
  size_t len = 0;
  auto in = reinterpret_cast<const unsigned char*>(to_sign.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &len, in, to_sign.size()) != 1)
    return Error::temp("DKIM key " + key.path + ": unable to sign: " + ssl_error());
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in,
                     to_sign.size()) != 1)
    return Error::temp("DKIM key " + key.path + ": unable to sign: " + ssl_error());
  sig.resize(len);
  return sig;
}

}  // namespace dkim

Result<std::string> DkimMessage::sign(const std::vector<DkimKey>& keys, time_t now) const {
  if (error_) return *error_;
  if (!finished_) return Error::temp("DKIM: message not finished");
  std::vector<std::string> names = signed_names();
  std::string headers = canonical_headers(names);
  std::string out;
  for (const auto& key : keys) {
    dkim::Folder f("DKIM-Signature:");
    f.word("v=1;", true);
    f.word(std::string("a=") + dkim_algo_name(key.algo) + ";", true);
    f.word("c=relaxed/relaxed;", true);
    f.word("d=" + key.domain + ";", true);
    f.word("s=" + key.selector + ";", true);
    f.word("t=" + std::to_string(static_cast<long long>(now)) + ";", true);
    for (size_t i = 0; i < names.size(); ++i) {
      std::string piece = (i == 0 ? "h=" : "") + names[i] + (i + 1 < names.size() ? ":" : ";");
      f.word(piece, i == 0);
    }
    f.word("bh=" + body_hash_ + ";", true);
    f.word("b=", true);
    // The signature covers the selected fields and this field with an
    // empty b=, relaxed, without its CRLF (RFC 6376 3.7).
    std::string data = headers;
    std::string_view pre(f.text());
    pre.remove_prefix(std::strlen("DKIM-Signature:"));
    data += "dkim-signature:" + dkim::relaxed_value(pre);
    auto sig = dkim::sign_data(key, data);
    if (!sig) return sig.error();
    f.breakable(dkim::base64(*sig));
    out += f.text();
    out += '\n';
  }
  return out;
}

// ---------------------------------------------------------------------------
// Keys.

namespace {

std::string key_rel(std::string_view domain, std::string_view name) {
  return "control/dkim/" + std::string(domain) + "/" + std::string(name);
}

std::string join(const std::string& home, const std::string& rel) {
  return home.empty() ? rel : home + "/" + rel;
}

Result<DkimPkey> parse_key(const std::string& text, const std::string& rel) {
  Bio bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  if (!bio) return Error::temp("out of memory");
  DkimPkey pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_password, nullptr));
  if (!pkey)
    return Error::temp("DKIM key " + rel + " is not an unencrypted PEM private key: " +
                       ssl_error());
  return pkey;
}

Result<DkimKey> load_key(const std::string& home, std::string_view domain,
                         std::string_view selector) {
  std::string rel = key_rel(domain, std::string(selector) + ".key");
  auto fd = open_read(join(home, rel));
  if (!fd) return Error::temp("unable to read DKIM key " + rel, fd.error().code());
  struct stat st {};
  if (::fstat(fd->get(), &st) == -1) return Error::temp("unable to stat DKIM key " + rel, errno);
  if (!S_ISREG(st.st_mode)) return Error::temp("DKIM key " + rel + " is not a regular file");
  if ((st.st_mode & 077) != 0)
    return Error::temp("DKIM key " + rel + " is open to group or others (chmod 600 it)");
  if (st.st_size < 0 || static_cast<uint64_t>(st.st_size) > kDkimMaxKeyBytes)
    return Error::temp("DKIM key " + rel + " is too big");
  std::string text;
  char buf[4096];
  for (;;) {
    auto n = read_some(fd->get(), buf, sizeof buf);
    if (!n) return Error::temp("unable to read DKIM key " + rel, n.error().code());
    if (*n == 0) break;
    if (!fits(text.size(), *n, kDkimMaxKeyBytes))
      return Error::temp("DKIM key " + rel + " is too big");
    text.append(buf, *n);
  }
  auto pkey = parse_key(text, rel);
  OPENSSL_cleanse(text.data(), text.size());
  if (!pkey) return pkey.error();
  DkimKey key;
  key.domain = std::string(domain);
  key.selector = std::string(selector);
  key.path = rel;
  switch (EVP_PKEY_get_base_id(pkey->get())) {
    case EVP_PKEY_RSA: {
      int bits = EVP_PKEY_get_bits(pkey->get());
      if (bits < static_cast<int>(kDkimMinRsaBits) || bits > static_cast<int>(kDkimMaxRsaBits))
        return Error::temp("DKIM key " + rel + " has " + std::to_string(bits) +
                           " bits; RSA keys need " + std::to_string(kDkimMinRsaBits) + " to " +
                           std::to_string(kDkimMaxRsaBits));
      key.algo = DkimAlgo::kRsaSha256;
      break;
    }
    case EVP_PKEY_ED25519:
      key.algo = DkimAlgo::kEd25519Sha256;
      break;
    default:
      return Error::temp("DKIM key " + rel + " is neither RSA nor Ed25519");
  }
  key.pkey = std::move(*pkey);
  return key;
}

struct DirClose {
  void operator()(DIR* d) const { ::closedir(d); }
};

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

Result<std::vector<DkimKey>> dkim_load_keys(const std::string& home,
                                            std::string_view domain_in) {
  std::vector<DkimKey> keys;
  std::string domain = lowercase(domain_in);
  if (!dkim::valid_domain(domain)) return keys;
  std::string rel = "control/dkim/" + std::string(domain);
  std::unique_ptr<DIR, DirClose> dir(::opendir(join(home, rel).c_str()));
  if (!dir) {
    if (errno == ENOENT) return keys;
    return Error::temp("unable to read directory " + rel, errno);
  }
  std::vector<std::string> selectors;
  for (;;) {
    errno = 0;
    struct dirent* e = ::readdir(dir.get());
    if (!e) {
      if (errno != 0) return Error::temp("unable to read directory " + rel, errno);
      break;
    }
    std::string_view name(e->d_name);
    if (name.empty() || name.front() == '.' || !ends_with(name, ".key")) continue;
    name.remove_suffix(4);
    if (!dkim::valid_selector(name))
      return Error::temp("DKIM key " + rel + "/" + std::string(e->d_name) +
                         ": the name is not a valid selector");
    if (selectors.size() >= kDkimMaxKeysPerDomain)
      return Error::temp("more than " + std::to_string(kDkimMaxKeysPerDomain) +
                         " DKIM keys in " + rel);
    selectors.emplace_back(name);
  }
  for (const auto& s : selectors) {
    auto key = load_key(home, domain, s);
    if (!key) return key.error();
    keys.push_back(std::move(*key));
  }
  std::sort(keys.begin(), keys.end(), [](const DkimKey& a, const DkimKey& b) {
    if (a.algo != b.algo) return a.algo == DkimAlgo::kRsaSha256;
    return a.selector < b.selector;
  });
  return keys;
}

// ---------------------------------------------------------------------------
// Signing a stored message.

Result<DkimSigned> dkim_sign_fd(const std::string& home, int fd, std::string_view envelope_sender,
                                time_t now) {
  DkimSigned result;
  struct stat st {};
  if (::stat(join(home, "control/dkim").c_str(), &st) == -1) {
    if (errno == ENOENT) return result;  // DKIM is not set up
    return Error::temp("unable to stat control/dkim", errno);
  }
  DkimMessage m;
  if (m.error()) return *m.error();
  constexpr size_t kChunk = 65536;
  std::string buf(kChunk, '\0');
  off_t offset = 0;
  auto read_more = [&](bool& eof) -> Status {
    ssize_t r = ::pread(fd, buf.data(), buf.size(), offset);
    if (r < 0) {
      if (errno == EINTR) return {};
      return Error::temp("unable to read message", errno);
    }
    eof = r == 0;
    if (r > 0) {
      m.feed(std::string_view(buf.data(), static_cast<size_t>(r)));
      offset += r;
    }
    return {};
  };
  bool eof = false;
  while (!eof && !m.header_done()) {
    if (auto s = read_more(eof); !s) return s.error();
  }
  if (eof) m.finish();

  std::vector<std::string> domains;
  if (auto d = m.from_domain()) domains.push_back(*d);
  if (auto d = dkim::envelope_domain(envelope_sender))
    if (domains.empty() || domains.front() != *d) domains.push_back(*d);
  std::vector<DkimKey> keys;
  for (const auto& d : domains) {
    auto k = dkim_load_keys(home, d);
    if (!k) return k.error();
    if (!k->empty()) {
      keys = std::move(*k);
      break;
    }
  }
  if (keys.empty()) return result;
  if (m.error()) return *m.error();

  while (!eof) {
    if (auto s = read_more(eof); !s) return s.error();
  }
  m.finish();
  auto headers = m.sign(keys, now);
  if (!headers) return headers.error();
  result.domain = keys.front().domain;
  result.headers = std::move(*headers);
  return result;
}

// ---------------------------------------------------------------------------
// Key generation.

namespace {

Result<std::string> dns_record(evp_pkey_st* pkey, std::string_view domain,
                               std::string_view selector) {
  std::string text = "v=DKIM1; ";
  if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_ED25519) {
    unsigned char raw[64];
    size_t len = sizeof raw;
    if (EVP_PKEY_get_raw_public_key(pkey, raw, &len) != 1)
      return Error::temp("unable to get the Ed25519 public key: " + ssl_error());
    text += "k=ed25519; p=" + dkim::base64(std::string_view(reinterpret_cast<char*>(raw), len));
  } else {
    unsigned char* der = nullptr;
    int len = i2d_PUBKEY(pkey, &der);
    if (len <= 0) return Error::temp("unable to encode the RSA public key: " + ssl_error());
    std::string spki(reinterpret_cast<char*>(der), static_cast<size_t>(len));
    OPENSSL_free(der);
    text += "k=rsa; p=" + dkim::base64(spki);
  }
  return std::string(selector) + "._domainkey." + std::string(domain) + ". IN TXT " +
         dkim::txt_strings(text);
}

// Makes dir (mode 0755) unless it exists; a new one is made durable.
Status make_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) == 0) return fsync_dir(dir_of(dir));
  if (errno == EEXIST) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return {};
    return Error::perm(dir + " exists and is not a directory");
  }
  return Error::last("unable to create " + dir);
}

Status check_names(std::string_view domain, std::string_view selector) {
  if (!dkim::valid_domain(domain)) return Error::perm("not a valid domain name: " + std::string(domain));
  if (!dkim::valid_selector(selector))
    return Error::perm("not a valid selector: " + std::string(selector));
  return {};
}

}  // namespace

Result<std::string> dkim_keygen(const std::string& home, std::string_view domain_in,
                                std::string_view selector, DkimAlgo algo) {
  std::string domain = lowercase(domain_in);
  if (auto s = check_names(domain, selector); !s) return s.error();
  std::string rel = key_rel(domain, std::string(selector) + ".key");
  std::string path = join(home, rel);
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) return Error::perm(rel + " exists; not replacing it");

  DkimPkey pkey(algo == DkimAlgo::kRsaSha256
                    ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(kDkimRsaBits))
                    : EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (!pkey) return Error::temp("unable to generate a key: " + ssl_error());
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio) return Error::temp("out of memory");
  if (PEM_write_bio_PrivateKey(bio.get(), pkey.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return Error::temp("unable to encode the key: " + ssl_error());
  char* pem_data = nullptr;
  long pem_len = BIO_get_mem_data(bio.get(), &pem_data);
  if (pem_len <= 0 || !pem_data) return Error::temp("unable to encode the key");
  std::string_view pem(pem_data, static_cast<size_t>(pem_len));
  auto record = dns_record(pkey.get(), domain, selector);
  if (!record) return record.error();

  // Run as root, the key goes to the user qmail-remote runs as.
  bool give = false;
  uid_t uid = 0;
  gid_t gid = 0;
  if (::geteuid() == 0) {
    struct stat t {};
    if (::stat(join(home, "queue/lock/tcpto").c_str(), &t) == 0 && t.st_uid != 0) {
      give = true;
      uid = t.st_uid;
      gid = t.st_gid;
    }
  }

  std::string dir = join(home, "control/dkim/" + domain);
  if (auto s = make_dir(join(home, "control/dkim")); !s) return s.error();
  if (auto s = make_dir(dir); !s) return s.error();
  std::string tmp = dir + "/." + std::string(selector) + ".key." + std::to_string(::getpid());
  auto fd = open_excl(tmp, 0600);
  if (!fd) return Error::temp("unable to create " + tmp, fd.error().code());
  struct Unlink {
    const std::string& p;
    ~Unlink() { ::unlink(p.c_str()); }
  } unlink_tmp{tmp};
  if (::fchmod(fd->get(), 0600) == -1) return Error::last("unable to chmod " + tmp);
  if (give && ::fchown(fd->get(), uid, gid) == -1) return Error::last("unable to chown " + tmp);
  if (auto s = write_all(fd->get(), pem); !s) return s.error();
  if (auto s = fsync_fd(fd->get(), tmp); !s) return s.error();
  if (auto s = fd->close(); !s) return s.error();
  if (::link(tmp.c_str(), path.c_str()) == -1) {
    if (errno == EEXIST) return Error::perm(rel + " exists; not replacing it");
    return Error::last("unable to link " + rel);
  }
  if (::unlink(tmp.c_str()) == -1) return Error::last("unable to remove " + tmp);
  if (auto s = fsync_dir(dir); !s) return s.error();
  return record;
}

Result<std::string> dkim_dns_record(const std::string& home, std::string_view domain_in,
                                    std::string_view selector) {
  std::string domain = lowercase(domain_in);
  if (auto s = check_names(domain, selector); !s) return s.error();
  auto key = load_key(home, domain, selector);
  if (!key) return key.error();
  return dns_record(key->pkey.get(), domain, selector);
}

}  // namespace qng
