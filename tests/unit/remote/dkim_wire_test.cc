// dkim_wire_test.cc: the DKIM body hash qmail-remote signs is the hash of
// the body a receiver gets from the DATA bytes qmail-remote sends (body.h):
// the signer must split lines exactly as the encoder does. The expected hash
// is computed here from encode_body's output with a plain reference of RFC
// 6376's relaxed body canonicalization, independent of the library's.
#include <openssl/evp.h>

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "body.h"
#include "dkim.h"

namespace qng::remote {
namespace {

using namespace std::string_literals;

// The wire's lines, with the dot-stuffing and the final "." undone.
std::vector<std::string> received_lines(const std::string& wire) {
  std::vector<std::string> lines;
  size_t pos = 0;
  for (;;) {
    size_t end = wire.find("\r\n", pos);
    if (end == std::string::npos) break;
    std::string l = wire.substr(pos, end - pos);
    pos = end + 2;
    if (l == ".") break;  // the end of DATA
    if (!l.empty() && l[0] == '.') l.erase(0, 1);
    lines.push_back(l);
  }
  EXPECT_EQ(pos, wire.size()) << "bytes after the final dot";
  return lines;
}

// RFC 6376 3.4.4: WSP runs become one SP, WSP at line ends goes, empty
// lines at the end go; every line ends in CRLF.
std::string relaxed_body(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  for (const std::string& l : lines) {
    std::string c;
    bool wsp = false;
    for (char ch : l) {
      if (ch == ' ' || ch == '\t') {
        wsp = true;
        continue;
      }
      if (wsp) c += ' ';
      wsp = false;
      c += ch;
    }
    out.push_back(c);
  }
  while (!out.empty() && out.back().empty()) out.pop_back();
  std::string body;
  for (const std::string& l : out) body += l + "\r\n";
  return body;
}

std::string sha256_base64(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EXPECT_EQ(EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr), 1);
  return dkim::base64(std::string_view(reinterpret_cast<const char*>(md), n));
}

// The body hash of the message as received from qmail-remote's bytes.
std::string wire_body_hash(std::string_view stored) {
  std::vector<std::string> lines = received_lines(encode_body(stored));
  size_t i = 0;
  while (i < lines.size() && !lines[i].empty()) ++i;  // the header
  std::vector<std::string> body;
  if (i < lines.size()) body.assign(lines.begin() + static_cast<ptrdiff_t>(i) + 1, lines.end());
  return sha256_base64(relaxed_body(body));
}

std::string signer_body_hash(std::string_view stored, size_t piece) {
  DkimMessage m;
  for (size_t pos = 0; pos < stored.size(); pos += piece)
    m.feed(stored.substr(pos, piece));
  m.finish();
  EXPECT_FALSE(m.error());
  return m.body_hash();
}

TEST(DkimWire, SignerHashesTheBodySent) {
  const std::string cases[] = {
      "Subject: a\n\nbody\n",
      "Subject: a\n\nbody  with \t spaces \t\n\n\n",
      "Subject: a\r\n\r\ncrlf\r\nlines  \r\n\r\n",
      "Subject: a\n\n.dot\n..two dots\n.\nbare\rCR\r.after CR\nlast without LF",
      "Subject: a\r\rheader ended by bare CRs\r",
      "Subject: a\r\n\rmixed\r\r\nbreaks\n\r\n",
      "Subject: a\n\nx\r\r\n",
      "Subject: a\n\n\n\n",
      "Subject: a\n\n",
      "Subject: a\n",
      "Subject: a",
      "Subject: a\n\nnul \0 byte\n\0\n"s,
      "Subject: a\n\n8bit caf\xc3\xa9 \n  \n\t\nend",
      "Subject: a\n folded\n\n one\n\t two\n",
  };
  for (const std::string& msg : cases) {
    std::string want = wire_body_hash(msg);
    for (size_t piece : {msg.size() + 1, size_t{1}, size_t{2}, size_t{3}})
      EXPECT_EQ(signer_body_hash(msg, piece), want) << "message: " << msg << " piece " << piece;
  }
}

}  // namespace
}  // namespace qng::remote
