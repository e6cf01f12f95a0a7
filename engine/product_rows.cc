#include "engine/internal/product_rows.h"

namespace marketsync {

std::string ProductKey(std::string_view account, uint64_t offer_id) {
  std::string k(account);
  k.push_back('\0');
  PutFixed64BE(&k, offer_id);
  return k;
}

std::optional<ProductKeyParts> ParseProductKey(std::string_view key) {
  if (key.size() < 9 || key[key.size() - 9] != '\0') return std::nullopt;
  return ProductKeyParts{key.substr(0, key.size() - 9), GetFixed64BE(key.data() + key.size() - 8)};
}

}  // namespace marketsync
