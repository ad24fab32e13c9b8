// dkim.h: DKIM signing of outgoing mail (RFC 6376, RFC 8301, RFC 8463) and
// DKIM key generation, with OpenSSL 3.
//
// Keys live in the instance, one directory per signing domain (docs/dkim.md):
//
//   control/dkim/DOMAIN/SELECTOR.key   PEM private key, RSA (1024..8192 bits,
//                                      keygen makes 2048) or Ed25519; mode
//                                      0600 (no group or other bits at all)
//
// Every SELECTOR.key of the domain signs, so a domain with an RSA key and an
// Ed25519 key gets two DKIM-Signature fields (RSA first), as RFC 8463
// recommends. Files with other names (README, x.key.old, .hidden) are
// ignored. The two keys need two selectors: one DNS name holds one key.
//
// Signing: c=relaxed/relaxed, a=rsa-sha256 or ed25519-sha256, no l=, t= set,
// h= the usual fields that are present with From signed once more than it
// occurs. The signing domain d= is the From: field's domain when it has keys,
// else the envelope sender's (DMARC wants d= aligned with From:).
//
// The message is taken as qmail-remote sends it: the queue's LF, a CRLF and
// a bare CR each end a line and go out as CRLF (qmail-remote's body.h), so
// the signature covers exactly the bytes on the wire. The body hash is
// computed while reading; of the header only the fields to be signed are
// kept, capped.
//
// Failures are Errors and the caller decides. A key that exists but cannot
// be used (unreadable, mode too open, not a key, too small) is a temporary
// error: qmail-remote defers the mail with the Error's text, because mail sent
// unsigned would then fail DMARC at the receiver, which is worse than a delay
// an administrator notices in the log. No key for either domain is no error:
// the message goes out unsigned.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "result.h"

struct evp_pkey_st;    // OpenSSL's EVP_PKEY
struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

namespace qng {

enum class DkimAlgo { kRsaSha256, kEd25519Sha256 };

constexpr size_t kDkimMaxKeyBytes = 64 * 1024;         // a key file
constexpr size_t kDkimMaxKeysPerDomain = 8;
constexpr size_t kDkimMaxHeaderBytes = 1024 * 1024;    // fields kept for h=
constexpr size_t kDkimMaxSignedFields = 1000;
constexpr unsigned kDkimRsaBits = 2048;                // keygen
constexpr unsigned kDkimMinRsaBits = 1024;             // RFC 8301 3.2
constexpr unsigned kDkimMaxRsaBits = 8192;
constexpr int kDkimWidth = 78;                         // folding column

struct DkimPkeyFree {
  void operator()(evp_pkey_st* p) const;
};
using DkimPkey = std::unique_ptr<evp_pkey_st, DkimPkeyFree>;

struct DkimMdFree {
  void operator()(evp_md_ctx_st* p) const;
};

// The pieces, exposed for tests.
struct DkimKey;

namespace dkim {

std::string base64(std::string_view data);
// Relaxed header canonicalization (RFC 6376 3.4.2) of one field:
// lowercase name, ":", the value unfolded with WSP runs as one SP and no WSP
// at either end, CRLF.
std::string relaxed_header(std::string_view name, std::string_view value);
// The same without the name and the CRLF.
std::string relaxed_value(std::string_view value);

// Relaxed body canonicalization (RFC 6376 3.4.4 with erratum 1384) of a
// stored message body, streaming: LF, CRLF and bare CR end lines.
class BodyCanon {
 public:
  void feed(std::string_view in, std::string& out);
  void finish(std::string& out);

 private:
  void eol(std::string& out);
  bool pending_cr_ = false;
  bool space_ = false;
  bool line_nonempty_ = false;
  bool line_open_ = false;
  size_t empty_lines_ = 0;
};

// Folds a header field at kDkimWidth columns, LF line ends, TAB
// continuation.
class Folder {
 public:
  explicit Folder(std::string start);
  // w, after a space if `space`, on a new line when it would not fit.
  void word(std::string_view w, bool space);
  // Text that may be broken anywhere (base64).
  void breakable(std::string_view s);
  const std::string& text() const { return out_; }

 private:
  std::string out_;
  size_t col_;
};

// The h= candidates, in the order they are listed.
const std::vector<std::string_view>& sign_list();
// A domain name usable as a directory name and d=: LDH labels (and '_'),
// 1..63 bytes each, 253 at most, no empty label. Expects lowercase.
bool valid_domain(std::string_view d);
// A selector: one or more such labels.
bool valid_selector(std::string_view s);
// The domain of the first address in a From: value, lowercase, if valid.
std::optional<std::string> address_domain(std::string_view from_value);
// The domain of an envelope address ("user@dom" or "dom"), lowercase, if valid.
std::optional<std::string> envelope_domain(std::string_view sender);
// A TXT record's text as DNS character-strings of at most 255 bytes.
std::string txt_strings(std::string_view text);
// The raw signature of data (the canonical header fields and the
// signature field) with key: RSASSA-PKCS1-v1_5 over SHA-256, or Ed25519 over
// the SHA-256 hash (RFC 8463 3).
Result<std::string> sign_data(const DkimKey& key, std::string_view data);

}  // namespace dkim

struct DkimKey {
  std::string domain;    // d=
  std::string selector;  // s=
  std::string path;      // for messages: control/dkim/DOMAIN/SELECTOR.key
  DkimAlgo algo = DkimAlgo::kRsaSha256;
  DkimPkey pkey;
};

// "rsa-sha256" / "ed25519-sha256".
const char* dkim_algo_name(DkimAlgo algo);

// The keys of one domain, RSA first, then by selector; empty when
// control/dkim/DOMAIN does not exist or holds no SELECTOR.key. A key that
// cannot be used is a temporary error naming the file and the reason.
Result<std::vector<DkimKey>> dkim_load_keys(const std::string& home, std::string_view domain);

// A message scanned for signing: feed() it the message in pieces as stored,
// then finish(); then sign(). Keeps only the header fields to be signed
// (kDkimMaxHeaderBytes, kDkimMaxSignedFields: past them error() is set,
// permanent); the body goes through the body hash.
class DkimMessage {
 public:
  struct Field {
    std::string name;   // lowercase
    std::string value;  // after the colon, unfolded (line breaks dropped)
  };

  DkimMessage();
  void feed(std::string_view data);
  void finish();
  // The empty line that ends the header was seen (or the message ended).
  bool header_done() const { return in_body_ || finished_; }
  const std::optional<Error>& error() const { return error_; }

  const std::vector<Field>& fields() const { return fields_; }
  // The domain of the first address of the first From: field, lowercase,
  // when it is a valid domain name.
  std::optional<std::string> from_domain() const;
  // The h= names, in order, From once more than present (oversigned).
  std::vector<std::string> signed_names() const;
  // The canonical header fields h= names select (RFC 6376 5.4.2: each name
  // takes the next instance from the bottom), each ending in CRLF.
  std::string canonical_headers(const std::vector<std::string>& names) const;
  // base64 of SHA-256 of the canonical body; after finish().
  const std::string& body_hash() const { return body_hash_; }

  // The DKIM-Signature fields for these keys (all of one domain), folded at
  // kDkimWidth with LF line ends, ready to prepend; after finish().
  Result<std::string> sign(const std::vector<DkimKey>& keys, time_t now) const;

 private:
  enum class State { kLineStart, kName, kValue, kSkip };
  void header_char(char c);
  void header_eol();

  std::unique_ptr<evp_md_ctx_st, DkimMdFree> sha_;
  std::string chunk_;  // canonical body bytes waiting for the hash
  bool pending_cr_ = false;
  bool in_body_ = false;
  bool finished_ = false;
  State state_ = State::kLineStart;
  bool last_kept_ = false;  // the field a continuation line would extend is kept
  std::string name_;
  size_t kept_bytes_ = 0;
  std::vector<Field> fields_;
  std::optional<Error> error_;
  dkim::BodyCanon body_;
  std::string body_hash_;
};

// What dkim_sign_fd made: the signing domain and the fields to prepend; both
// empty when neither domain has keys (the message goes out unsigned).
struct DkimSigned {
  std::string domain;
  std::string headers;
};

// Signs the message in fd, which must be seekable (it is read with pread
// from offset 0; the file offset is left alone). envelope_sender is the
// envelope sender address (a bare domain is taken as the domain). Errors:
// temporary for i/o and unusable keys; permanent when the fields to sign
// pass the caps.
Result<DkimSigned> dkim_sign_fd(const std::string& home, int fd, std::string_view envelope_sender,
                                time_t now);

// Makes a key (RSA 2048 or Ed25519) as control/dkim/DOMAIN/SELECTOR.key,
// mode 0600, written atomically and durably; refuses to replace an existing
// key. Run as root, the key is given to the owner of queue/lock/tcpto (the
// user qmail-remote runs as). Returns the DNS record to publish:
//   SELECTOR._domainkey.DOMAIN. IN TXT "v=DKIM1; k=rsa; p=MIIB..." "..."
Result<std::string> dkim_keygen(const std::string& home, std::string_view domain,
                                std::string_view selector, DkimAlgo algo);

// The DNS record of an existing key (the same text dkim_keygen returned).
Result<std::string> dkim_dns_record(const std::string& home, std::string_view domain,
                                    std::string_view selector);


}  // namespace qng
