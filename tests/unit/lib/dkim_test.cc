// dkim_test.cc: DKIM canonicalization, h= selection, folding, base64, the
// RFC 8463 example signature, key loading and generation (dkim.h).
// Signatures are checked by an independent verifier in tests/e2e/test_dkim.py.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dkim.h"

namespace qng {
namespace {

using dkim::base64;

std::string sha256_b64(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EXPECT_EQ(EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr), 1);
  return base64(std::string_view(reinterpret_cast<char*>(md), len));
}

// The canonical body of a stored body, fed whole and byte by byte.
std::string canon_body(std::string_view in, bool bytewise) {
  dkim::BodyCanon c;
  std::string out;
  if (bytewise)
    for (char ch : in) c.feed(std::string_view(&ch, 1), out);
  else
    c.feed(in, out);
  c.finish(out);
  return out;
}

DkimMessage scan(std::string_view message, size_t piece = 0) {
  DkimMessage m;
  if (piece == 0) {
    m.feed(message);
  } else {
    for (size_t i = 0; i < message.size(); i += piece) m.feed(message.substr(i, piece));
  }
  m.finish();
  return m;
}

TEST(DkimBase64, Rfc4648Vectors) {
  struct Case { std::string in, want; };
  const Case cases[] = {
      {"", ""},          {"f", "Zg=="},         {"fo", "Zm8="},
      {"foo", "Zm9v"},   {"foob", "Zm9vYg=="},  {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
      {std::string("\xff\xfe\x00\x80\x7f", 5), "//4AgH8="},
      {std::string("\xfb\xff", 2), "+/8="},
  };
  for (const auto& c : cases) EXPECT_EQ(base64(c.in), c.want) << c.in;
}

TEST(DkimCanon, RelaxedHeader) {
  struct Case { std::string name, value, want; };
  const Case cases[] = {
      // RFC 6376 3.4.5's example.
      {"A", " X", "a:X\r\n"},
      {"B ", " Y\t\r\n\tZ  ", "b:Y Z\r\n"},
      {"SUBJect", "  a \t b  ", "subject:a b\r\n"},
      {"To", "", "to:\r\n"},
      {"To", " \t ", "to:\r\n"},
      {"Cc", "x\r\n y\r\n\tz", "cc:x y z\r\n"},
      {"X", "a\xc3\xa4  b", "x:a\xc3\xa4 b\r\n"},  // 8-bit bytes pass through
  };
  for (const auto& c : cases) EXPECT_EQ(dkim::relaxed_header(c.name, c.value), c.want) << c.value;
}

TEST(DkimCanon, RelaxedBody) {
  struct Case { std::string in, want; };
  const Case cases[] = {
      // RFC 6376 3.4.5's example, with CRLF and as the queue stores it.
      {" C \r\nD \t E\r\n\r\n\r\n", " C\r\nD E\r\n"},
      {" C \nD \t E\n\n\n", " C\r\nD E\r\n"},
      {"", ""},
      {"\n", ""},
      {"\n\n\n", ""},
      {"  \n\t\n", ""},
      {"abc", "abc\r\n"},          // partial last line: CRLF added
      {"abc\n   ", "abc\r\n"},     // partial line of white space: an empty line
      {"a\rb\r\n", "a\r\nb\r\n"},  // bare CR ends a line, as qmail-remote sends it
      {"a\r\r\nb\n", "a\r\n\r\nb\r\n"},
      {"a  \n\n b\n", "a\r\n\r\n b\r\n"},
      {"x\n\n\ny\n\n", "x\r\n\r\n\r\ny\r\n"},
      {"x\n \ny\n", "x\r\n\r\ny\r\n"},
      {std::string("nul\0 byte  \n", 12), std::string("nul\0 byte\r\n", 11)},
      {"\xe4\xf6\xfc  \xff\n", "\xe4\xf6\xfc \xff\r\n"},
      {".\n..\n", ".\r\n..\r\n"},  // dot stuffing is the transport's
  };
  for (const auto& c : cases) {
    EXPECT_EQ(canon_body(c.in, false), c.want) << c.in;
    EXPECT_EQ(canon_body(c.in, true), c.want) << c.in;
  }
}

TEST(DkimCanon, Rfc6376ExampleThroughMessage) {
  // 3.4.5's example with field names that are signed, in every chunking.
  const std::string msg = "Subject: X\r\nTo : Y\t\r\n\tZ  \r\n\r\n C \r\nD \t E\r\n\r\n\r\n";
  for (size_t piece : {0, 1, 2, 3, 7}) {
    DkimMessage m = scan(msg, piece);
    ASSERT_FALSE(m.error());
    EXPECT_EQ(m.canonical_headers({"subject", "to"}), "subject:X\r\nto:Y Z\r\n") << piece;
    EXPECT_EQ(m.body_hash(), sha256_b64(" C\r\nD E\r\n")) << piece;
  }
}

TEST(DkimCanon, EmptyBodies) {
  const std::string empty = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";  // SHA-256("")
  for (std::string msg : {"From: a@b.c\n", "From: a@b.c\n\n", "From: a@b.c\n\n\n\n", "From: a@b.c",
                          "", "\n", "From: a@b.c\r\n\r\n  \r\n"}) {
    DkimMessage m = scan(msg);
    EXPECT_EQ(m.body_hash(), empty) << msg;
  }
}

TEST(DkimHeader, SelectsSignedFieldsAndOversignsFrom) {
  const std::string msg =
      "Received: from x\n\tby y\n"
      "FROM: Alice <alice@example.org>\n"
      "To: one@example.net\n"
      "X-Mailer: mutt\n"
      "  continued\n"
      "Subject : hello\n"
      "To: two@example.net\n"
      "From alice Sun Mar  3 09:05:01 2024\n"
      " continuation of a non-field\n"
      "date: today\n"
      "\n"
      "Subject: body text, not a field\n";
  DkimMessage m = scan(msg);
  ASSERT_FALSE(m.error());
  std::vector<std::string> want = {"from", "from", "subject", "date", "to", "to"};
  EXPECT_EQ(m.signed_names(), want);
  ASSERT_EQ(m.fields().size(), 5u);
  EXPECT_EQ(m.from_domain(), "example.org");
  // Each name takes the next instance from the bottom; the second "from"
  // finds none and adds nothing.
  EXPECT_EQ(m.canonical_headers(want),
            "from:Alice <alice@example.org>\r\n"
            "subject:hello\r\n"
            "date:today\r\n"
            "to:two@example.net\r\n"
            "to:one@example.net\r\n");
  EXPECT_EQ(m.canonical_headers({"to"}), "to:two@example.net\r\n");
  EXPECT_EQ(m.canonical_headers({"cc", "reply-to"}), "");
}

TEST(DkimHeader, NoFromStillOversigns) {
  DkimMessage m = scan("Subject: x\n\nbody\n");
  EXPECT_EQ(m.signed_names(), (std::vector<std::string>{"from", "subject"}));
  EXPECT_EQ(m.from_domain(), std::nullopt);
}

TEST(DkimHeader, CrLineEndsAndHeaderEndingInCr) {
  // A CR that ends the header's empty line, its LF in the next piece.
  DkimMessage m;
  m.feed("Subject: a\r\n\r");
  m.feed("\nbody\r\n");
  m.finish();
  EXPECT_EQ(m.canonical_headers({"subject"}), "subject:a\r\n");
  EXPECT_EQ(m.body_hash(), sha256_b64("body\r\n"));
  // Bare CRs end lines as on the wire: "b" is no field, "To" is one.
  DkimMessage n = scan("Subject: a\rb\rTo: c\r\rx\r");
  EXPECT_EQ(n.canonical_headers({"subject", "to"}), "subject:a\r\nto:c\r\n");
  EXPECT_EQ(n.body_hash(), sha256_b64("x\r\n"));
}

TEST(DkimHeader, CapsArePermanentErrors) {
  std::string many;
  for (size_t i = 0; i <= kDkimMaxSignedFields; ++i) many += "To: x@example.org\n";
  DkimMessage m = scan(many + "\nbody\n");
  ASSERT_TRUE(m.error());
  EXPECT_TRUE(m.error()->permanent());

  std::string big = "Subject: " + std::string(kDkimMaxHeaderBytes, 'x') + "\n\nbody\n";
  DkimMessage n = scan(big, 65536);
  ASSERT_TRUE(n.error());
  EXPECT_TRUE(n.error()->permanent());

  // An unsigned field of any size is not kept.
  std::string skip = "X-Big: " + std::string(3 * kDkimMaxHeaderBytes, 'x') + "\nFrom: a@b.org\n\n";
  DkimMessage k = scan(skip, 65536);
  EXPECT_FALSE(k.error());
  EXPECT_EQ(k.from_domain(), "b.org");
}

TEST(DkimAddress, FromDomain) {
  struct Case { std::string value; std::optional<std::string> want; };
  const Case cases[] = {
      {" Alice <alice@Example.ORG>", "example.org"},
      {" alice@example.org", "example.org"},
      {" alice@example.org.", "example.org"},
      {" \"a@evil.com\" <x@c.org>", "c.org"},
      {" \"q\\\"<x@evil.com>\" <x@c.org>", "c.org"},
      {" (x@evil.com) y@good.org", "good.org"},
      {" y@good.org (comment (nested@evil.com))", "good.org"},
      {" Group: a@one.org, b@two.org;", "one.org"},
      {" a@b.org, c@d.org", "b.org"},
      {" <@route.org:u@dest.org>", "dest.org"},
      {" a@[192.0.2.1]", std::nullopt},
      {" a@../../etc", std::nullopt},
      {" a@exa/mple.org", std::nullopt},
      {" undisclosed-recipients:;", std::nullopt},
      {" Alice <alice@example.org", std::nullopt},
      {"", std::nullopt},
  };
  for (const auto& c : cases) EXPECT_EQ(dkim::address_domain(c.value), c.want) << c.value;
}

TEST(DkimAddress, EnvelopeDomain) {
  struct Case { std::string sender; std::optional<std::string> want; };
  const Case cases[] = {
      {"a@Example.org", "example.org"}, {"example.org", "example.org"},
      {"", std::nullopt},               {"#@[]", std::nullopt},
      {"a@", std::nullopt},             {"a@b@c.org", "c.org"},
      {"a@..", std::nullopt},
  };
  for (const auto& c : cases) EXPECT_EQ(dkim::envelope_domain(c.sender), c.want) << c.sender;
}

TEST(DkimNames, DomainsAndSelectors) {
  struct Case { std::string name; bool ok; };
  const Case cases[] = {
      {"example.org", true}, {"a", true},          {"mail-1.example.org", true},
      {"s_1", true},         {"", false},          {".", false},
      {"..", false},         {"a..b", false},      {".a", false},
      {"a.", false},         {"-a.org", false},    {"a-.org", false},
      {"a/b", false},        {"a b", false},       {std::string(64, 'a'), false},
      {std::string(63, 'a') + ".org", true},
      {std::string(300, 'a'), false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(dkim::valid_domain(c.name), c.ok) << c.name;
    EXPECT_EQ(dkim::valid_selector(c.name), c.ok) << c.name;
  }
}

TEST(DkimDns, TxtStrings) {
  EXPECT_EQ(dkim::txt_strings("v=DKIM1; k=ed25519; p=x"), "\"v=DKIM1; k=ed25519; p=x\"");
  std::string long_text(300, 'a');
  EXPECT_EQ(dkim::txt_strings(long_text),
            "\"" + std::string(255, 'a') + "\" \"" + std::string(45, 'a') + "\"");
  EXPECT_EQ(dkim::txt_strings(std::string(510, 'b')),
            "\"" + std::string(255, 'b') + "\" \"" + std::string(255, 'b') + "\"");
}

TEST(DkimFold, LinesStayWithinWidthAndUnfoldBack) {
  dkim::Folder f("DKIM-Signature:");
  std::vector<std::string> words;
  for (int i = 0; i < 40; ++i) words.push_back("w" + std::to_string(i) + "=value;");
  for (const auto& w : words) f.word(w, true);
  f.word("b=", true);
  f.breakable(std::string(300, 'Q'));
  std::string text = f.text();
  std::istringstream in(text);
  std::string line;
  bool first = true;
  while (std::getline(in, line)) {
    EXPECT_LE(line.size(), static_cast<size_t>(kDkimWidth)) << line;
    if (!first) {
      EXPECT_EQ(line[0], '\t') << line;
    }
    first = false;
  }
  // Unfolding gives back the words separated by single spaces, and the
  // breakable text with folding white space in it.
  std::string unfolded = dkim::relaxed_value(text);
  std::string want = "DKIM-Signature:";
  for (const auto& w : words) want += " " + w;
  want += " ";
  ASSERT_EQ(unfolded.substr(0, want.size()), want);
  std::string rest;
  for (char c : unfolded.substr(want.size()))
    if (c != ' ') rest += c;
  EXPECT_EQ(rest, "b=" + std::string(300, 'Q'));
}

// RFC 8463 appendix A: the Ed25519 key of RFC 8032 7.1 test 1 signs the
// RFC 6376 example message. Ed25519 is deterministic, so our canonical
// header, body hash and signature must reproduce the RFC's bytes.
TEST(DkimSign, Rfc8463Example) {
  const std::string message =
      "From: Joe SixPack <joe@football.example.com>\n"
      "To: Suzie Q <suzie@shopping.example.net>\n"
      "Subject: Is dinner ready?\n"
      "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\n"
      "Message-ID: <20030712040037.46341.5F8J@football.example.com>\n"
      "\n"
      "Hi.\n"
      "\n"
      "We lost the game.  Are you hungry yet?\n"
      "\n"
      "Joe.\n";
  DkimMessage m = scan(message);
  ASSERT_FALSE(m.error());
  EXPECT_EQ(m.body_hash(), "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=");
  EXPECT_EQ(m.from_domain(), "football.example.com");

  const unsigned char seed[32] = {
      0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
      0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60};
  DkimKey key;
  key.domain = "football.example.com";
  key.selector = "brisbane";
  key.algo = DkimAlgo::kEd25519Sha256;
  key.pkey.reset(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed, sizeof seed));
  ASSERT_TRUE(key.pkey);

  const std::string sig_field =
      " v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
      " d=football.example.com; i=@football.example.com;\r\n"
      " q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n"
      " subject : date : message-id : from : subject : date;\r\n"
      " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
      " b=";
  std::string data = m.canonical_headers({"from", "to", "subject", "date", "message-id", "from",
                                          "subject", "date"}) +
                     "dkim-signature:" + dkim::relaxed_value(sig_field);
  auto sig = dkim::sign_data(key, data);
  ASSERT_TRUE(sig) << sig.error().message();
  EXPECT_EQ(base64(*sig),
            "/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus"
            "Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==");

  // Our own field for the same key: its form, and folding.
  auto ours = m.sign(std::vector<DkimKey>{}, 0);
  ASSERT_TRUE(ours);
  EXPECT_EQ(*ours, "");
  std::vector<DkimKey> keys;
  keys.push_back(std::move(key));
  auto field = m.sign(keys, 1528637909);
  ASSERT_TRUE(field) << field.error().message();
  std::string flat;  // without white space
  for (char c : *field)
    if (c != '\n' && c != '\t' && c != ' ') flat += c;
  EXPECT_EQ(flat.rfind("DKIM-Signature:v=1;a=ed25519-sha256;c=relaxed/relaxed;"
                       "d=football.example.com;s=brisbane;t=1528637909;"
                       "h=from:from:subject:date:message-id:to;"
                       "bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;b=",
                       0),
            0u)
      << *field;
  EXPECT_EQ(field->back(), '\n');
  std::istringstream in(*field);
  std::string line;
  while (std::getline(in, line)) EXPECT_LE(line.size(), static_cast<size_t>(kDkimWidth)) << line;
}

// ---------------------------------------------------------------------------
// Keys on disk.

class DkimKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "qng-dkim-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    home_ = tmpl;
    std::filesystem::create_directories(home_ + "/control");
  }
  void TearDown() override { std::filesystem::remove_all(home_); }

  std::string write(const std::string& rel, const std::string& data, mode_t mode) {
    std::string p = home_ + "/" + rel;
    std::filesystem::create_directories(std::filesystem::path(p).parent_path());
    std::ofstream(p, std::ios::binary) << data;
    ::chmod(p.c_str(), mode);
    return p;
  }
  static std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  static std::string pem_of(EVP_PKEY* k) {
    std::string out;
    FILE* f = ::tmpfile();
    PEM_write_PrivateKey(f, k, nullptr, nullptr, 0, nullptr, nullptr);
    long n = ::ftell(f);
    ::rewind(f);
    out.resize(static_cast<size_t>(n));
    EXPECT_EQ(::fread(out.data(), 1, out.size(), f), out.size());
    ::fclose(f);
    return out;
  }
  // A message file for dkim_sign_fd.
  int message_fd(const std::string& text) {
    std::string p = write("msg", text, 0600);
    return ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  }

  std::string home_;
};

TEST_F(DkimKeyTest, KeygenWritesKeyAndRecordAndRefusesToReplace) {
  auto rec = dkim_keygen(home_, "Example.ORG", "ed", DkimAlgo::kEd25519Sha256);
  ASSERT_TRUE(rec) << rec.error().message();
  EXPECT_EQ(rec->rfind("ed._domainkey.example.org. IN TXT \"v=DKIM1; k=ed25519; p=", 0), 0u) << *rec;
  std::string path = home_ + "/control/dkim/example.org/ed.key";
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  std::string pem = slurp(path);
  EXPECT_EQ(pem.rfind("-----BEGIN PRIVATE KEY-----\n", 0), 0u);
  // Raw 32-byte public key: 44 base64 characters.
  size_t p = rec->find("p=");
  EXPECT_EQ(rec->size() - p - 3, 44u) << *rec;

  auto again = dkim_keygen(home_, "example.org", "ed", DkimAlgo::kRsaSha256);
  ASSERT_FALSE(again);
  EXPECT_TRUE(again.error().permanent());
  EXPECT_EQ(slurp(path), pem);
  for (const auto& e : std::filesystem::directory_iterator(home_ + "/control/dkim/example.org"))
    EXPECT_EQ(e.path().filename(), "ed.key");  // no temporary file left

  auto same = dkim_dns_record(home_, "example.org", "ed");
  ASSERT_TRUE(same) << same.error().message();
  EXPECT_EQ(*same, *rec);

  EXPECT_FALSE(dkim_keygen(home_, "../etc", "ed", DkimAlgo::kEd25519Sha256));
  EXPECT_FALSE(dkim_keygen(home_, "example.org", "a/b", DkimAlgo::kEd25519Sha256));
}

TEST_F(DkimKeyTest, KeygenRsa) {
  auto rec = dkim_keygen(home_, "example.org", "default", DkimAlgo::kRsaSha256);
  ASSERT_TRUE(rec) << rec.error().message();
  EXPECT_EQ(rec->rfind("default._domainkey.example.org. IN TXT \"v=DKIM1; k=rsa; p=MIIBIjAN", 0),
            0u)
      << *rec;
  // A 2048-bit key's record needs two strings of at most 255 bytes.
  EXPECT_NE(rec->find("\" \""), std::string::npos);
  auto keys = dkim_load_keys(home_, "example.org");
  ASSERT_TRUE(keys) << keys.error().message();
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].algo, DkimAlgo::kRsaSha256);
  EXPECT_EQ(EVP_PKEY_get_bits((*keys)[0].pkey.get()), 2048);
}

TEST_F(DkimKeyTest, LoadsKeysRsaFirstAndIgnoresOtherFiles) {
  EVP_PKEY* ed = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  EVP_PKEY* rsa = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(1024));
  ASSERT_TRUE(ed && rsa);
  write("control/dkim/example.org/aaa.key", pem_of(ed), 0600);
  write("control/dkim/example.org/zzz.key", pem_of(rsa), 0400);
  write("control/dkim/example.org/old.key.off", "junk", 0644);
  write("control/dkim/example.org/README", "junk", 0644);
  write("control/dkim/example.org/.x.key.123", "junk", 0600);
  auto keys = dkim_load_keys(home_, "example.org");
  ASSERT_TRUE(keys) << keys.error().message();
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].selector, "zzz");
  EXPECT_EQ((*keys)[0].algo, DkimAlgo::kRsaSha256);
  EXPECT_EQ((*keys)[1].selector, "aaa");
  EXPECT_EQ((*keys)[1].algo, DkimAlgo::kEd25519Sha256);
  EXPECT_EQ((*keys)[1].path, "control/dkim/example.org/aaa.key");

  auto none = dkim_load_keys(home_, "other.org");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  EVP_PKEY_free(ed);
  EVP_PKEY_free(rsa);
}

TEST_F(DkimKeyTest, UnusableKeysAreTemporaryErrors) {
  EVP_PKEY* ed = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  EVP_PKEY* small = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(512));
  EVP_PKEY* ec = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  ASSERT_TRUE(ed && small && ec);
  struct Case { std::string name, data; mode_t mode; std::string why; };
  const Case cases[] = {
      {"open.key", pem_of(ed), 0640, "chmod 600"},
      {"world.key", pem_of(ed), 0604, "chmod 600"},
      {"junk.key", "not a key\n", 0600, "not an unencrypted PEM private key"},
      {"small.key", pem_of(small), 0600, "512 bits"},
      {"ec.key", pem_of(ec), 0600, "neither RSA nor Ed25519"},
      {"bad_.-sel.key", pem_of(ed), 0600, "not a valid selector"},
  };
  for (const auto& c : cases) {
    std::filesystem::remove_all(home_ + "/control/dkim");
    write("control/dkim/example.org/good.key", pem_of(ed), 0600);
    write("control/dkim/example.org/" + c.name, c.data, c.mode);
    auto keys = dkim_load_keys(home_, "example.org");
    ASSERT_FALSE(keys) << c.name;
    EXPECT_TRUE(keys.error().temporary()) << c.name;
    EXPECT_NE(keys.error().message().find(c.why), std::string::npos) << keys.error().message();
    // And signing defers rather than sending the mail unsigned.
    int fd = message_fd("From: a@example.org\n\nx\n");
    auto s = dkim_sign_fd(home_, fd, "", 0);
    ::close(fd);
    ASSERT_FALSE(s) << c.name;
    EXPECT_TRUE(s.error().temporary());
  }
  EVP_PKEY_free(ed);
  EVP_PKEY_free(small);
  EVP_PKEY_free(ec);
}

TEST_F(DkimKeyTest, SignFdChoosesTheDomain) {
  // No control/dkim at all: unsigned.
  int fd = message_fd("From: a@from.org\n\nx\n");
  auto s = dkim_sign_fd(home_, fd, "b@env.org", 0);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->headers, "");

  ASSERT_TRUE(dkim_keygen(home_, "from.org", "f", DkimAlgo::kEd25519Sha256));
  ASSERT_TRUE(dkim_keygen(home_, "env.org", "e", DkimAlgo::kEd25519Sha256));
  struct Case { std::string from, sender, want; };
  const Case cases[] = {
      {"From: A <a@From.org>", "b@env.org", "from.org"},  // From: aligned first
      {"From: a@elsewhere.org", "b@env.org", "env.org"},  // else the envelope's
      {"From: a@elsewhere.org", "", ""},                  // bounce, no key: unsigned
      {"Subject: no from", "b@env.org", "env.org"},
      {"From: a@elsewhere.org", "b@nokey.org", ""},
  };
  for (const auto& c : cases) {
    ::close(fd);
    fd = message_fd(c.from + "\nTo: x@y.org\n\nbody\n");
    ::lseek(fd, 5, SEEK_SET);
    auto r = dkim_sign_fd(home_, fd, c.sender, 1700000000);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->domain, c.want) << c.from;
    if (c.want.empty()) {
      EXPECT_EQ(r->headers, "");
    } else {
      EXPECT_NE(r->headers.find("d=" + c.want + ";"), std::string::npos) << r->headers;
      EXPECT_NE(r->headers.find("t=1700000000;"), std::string::npos) << r->headers;
    }
    EXPECT_EQ(::lseek(fd, 0, SEEK_CUR), 5);  // the offset is left alone
  }
  ::close(fd);

  // A pipe cannot be read twice: an error, not a wrong signature.
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  ASSERT_EQ(::write(p[1], "From: a@from.org\n\nx\n", 20), 20);
  ::close(p[1]);
  auto piped = dkim_sign_fd(home_, p[0], "", 0);
  ::close(p[0]);
  EXPECT_FALSE(piped);
}

}  // namespace
}  // namespace qng
