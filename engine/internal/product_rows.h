#pragma once

// The engine's product state rows (schema/store_keys.h: `engine_products`), keyed
//   account 0x00 offer_id:u64be
// so that one account's rows are one range, in offer id order.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/coding.h"
#include "events/event_log.h"
#include "schema/store_keys.h"

namespace marketsync {

std::string ProductKey(std::string_view account, uint64_t offer_id);

struct ProductKeyParts {
  std::string_view account;
  uint64_t offer_id = 0;
};
// The parts of a ProductKey; nullopt for a key of another shape.
std::optional<ProductKeyParts> ParseProductKey(std::string_view key);

// Calls fn(offer_id, row) for each of the account's rows, in offer id order; fn returns a
// Status. Errors: the scan's, or the first of fn's.
template <typename Fn>
Status ForEachProductRow(const EventLog& log, std::string_view account, Fn fn) {
  MS_ASSIGN_OR_RETURN(auto it, log.Scan(kProductsFamily));
  std::string prefix(account);
  prefix.push_back('\0');
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (it->key().size() != prefix.size() + 8) continue;
    MS_RETURN_IF_ERROR(fn(GetFixed64BE(it->key().data() + prefix.size()), it->value()));
  }
  return it->status();
}

}  // namespace marketsync
