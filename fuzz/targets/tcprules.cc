// tcprules.cc: fuzz target for src/lib/tcprules.h: rule lines as tcprules
// compiles them (control/tcp.smtp is written by administrators, but often
// generated from other data), the cdb data tcpserver decodes, and the keys
// it tries for a client's address, host name and ident answer.
#include <string>

#include "cdb.h"
#include "common/fuzz.h"
#include "tcprules.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace qng;
  std::string_view text = fuzz::as_view(data, size);

  // tcpserver decodes whatever the cdb holds.
  (void)decode_rule_data(text);

  // The first three lines as a client's ip, host and info.
  fuzz::Cursor cur(text);
  std::string_view ip = cur.until('\n'), host = cur.until('\n'), info = cur.until('\n');
  auto keys = rule_keys(ip, host, info);
  QNG_FUZZ_CHECK(!keys.empty() && keys.back().empty());

  auto records = compile_rules(text);
  if (!records) {
    QNG_FUZZ_CHECK(records.error().permanent());
    return 0;
  }
  for (const auto& r : *records) (void)decode_rule_data(r.data);
  if (records->empty()) return 0;

  const std::string cdb = fuzz::scratch_dir() + "/rules.cdb";
  const std::string tmp = fuzz::scratch_dir() + "/rules.tmp";
  if (!compile_rules_file(text, cdb, tmp)) return 0;
  auto db = CdbReader::open(cdb);
  QNG_FUZZ_CHECK(db);
  for (size_t i = 0; i < records->size() && i < 8; ++i) {
    auto hit = find_rule(*db, (*records)[i].key, host, info);
    QNG_FUZZ_CHECK(hit);
  }
  (void)find_rule(*db, ip, host, info);
  return 0;
}
