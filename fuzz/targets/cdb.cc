// cdb.cc: fuzz target for src/lib/cdb.h's CdbReader on arbitrary file bytes,
// and for the lookups built on it (users/cdb, tcprules' cdb): a corrupt or
// hostile database must be an error, never a read out of bounds.
#include <string>

#include "assign.h"
#include "cdb.h"
#include "common/fuzz.h"
#include "tcprules.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace qng;
  std::string_view in = fuzz::as_view(data, size);
  auto db = CdbReader::from_fd(fuzz::memory_fd(in));
  if (!db) return 0;

  std::vector<std::string> keys = {"", "!", "a", "127.0.0.1", std::string("!joe\0", 5)};
  if (auto all = db->dump()) {
    for (size_t i = 0; i < all->size() && i < 8; ++i) keys.push_back((*all)[i].first);
  }
  for (const auto& k : keys) {
    auto one = db->find(k);
    auto many = db->find_all(k);
    if (one && many) {
      // find is the first of find_all.
      QNG_FUZZ_CHECK(one->has_value() == !many->empty());
      if (one->has_value()) QNG_FUZZ_CHECK(**one == many->front());
    }
    std::string local = k.size() > 1 && k[0] == '!' ? k.substr(1) : k;
    if (!local.empty() && local.back() == '\0') local.pop_back();
    (void)assign_lookup(*db, local);
    (void)assign_lookup(*db, local + "-ext");
    (void)find_rule(*db, k, "", "");
    (void)find_rule(*db, "192.0.2.7", k, k);
  }
  return 0;
}
