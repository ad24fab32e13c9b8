// assign.cc: fuzz target for src/lib/assign.h: users/assign as qmail-newu
// reads it, compiled into a cdb, then looked up as qmail-lspawn does.
#include <string>

#include "assign.h"
#include "cdb.h"
#include "common/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace qng;
  std::string_view text = fuzz::as_view(data, size);
  auto entries = parse_assign(text);
  if (!entries) {
    QNG_FUZZ_CHECK(entries.error().permanent());
    return 0;
  }
  auto records = assign_cdb_records(*entries);
  QNG_FUZZ_CHECK(records.size() >= entries->size());

  const std::string path = fuzz::scratch_dir() + "/assign.cdb";
  if (!compile_assign(text, path)) return 0;
  auto db = CdbReader::open(path);
  QNG_FUZZ_CHECK(db);
  auto dumped = db->dump();
  QNG_FUZZ_CHECK(dumped && dumped->size() == records.size());
  for (const auto& e : *entries) {
    (void)assign_lookup(*db, e.local);
    (void)assign_lookup(*db, e.local + "-x");
  }
  (void)assign_lookup(*db, "");
  return 0;
}
