#include "schema/stream_ids.h"

#include <charconv>

namespace marketsync {

std::string RunStreamId(std::string_view run_id) { return std::string(kRunStreamPrefix) + std::string(run_id); }

bool IsRunStream(std::string_view stream_id) { return stream_id.starts_with(kRunStreamPrefix); }

std::string_view RunIdOfStream(std::string_view stream_id) {
  return IsRunStream(stream_id) ? stream_id.substr(kRunStreamPrefix.size()) : std::string_view();
}

std::string AccountStreamId(std::string_view account) {
  return std::string(kAccountStreamPrefix) + std::string(account);
}

bool IsAccountStream(std::string_view stream_id) { return stream_id.starts_with(kAccountStreamPrefix); }

std::string ProductStreamId(std::string_view account, uint64_t offer_id) {
  return std::string(kProductStreamPrefix) + std::string(account) + "-" + std::to_string(offer_id);
}

bool IsProductStream(std::string_view stream_id) { return stream_id.starts_with(kProductStreamPrefix); }

bool IsProductStreamOf(std::string_view stream_id, std::string_view account, uint64_t offer_id) {
  constexpr std::string_view kPrefix = kProductStreamPrefix;
  char digits[20];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, offer_id);
  const std::string_view id(digits, static_cast<size_t>(end - digits));
  return stream_id.size() == kPrefix.size() + account.size() + 1 + id.size() && stream_id.starts_with(kPrefix) &&
         stream_id.substr(kPrefix.size(), account.size()) == account && stream_id[kPrefix.size() + account.size()] == '-' &&
         stream_id.ends_with(id);
}

std::string_view ProductStreamAccount(std::string_view stream_id) {
  if (!IsProductStream(stream_id)) return {};
  const size_t dash = stream_id.rfind('-');
  if (dash < kProductStreamPrefix.size()) return {};
  return stream_id.substr(kProductStreamPrefix.size(), dash - kProductStreamPrefix.size());
}

std::optional<ProductStreamParts> ParseProductStreamId(std::string_view stream_id) {
  if (!IsProductStream(stream_id)) return std::nullopt;
  const size_t dash = stream_id.rfind('-');
  if (dash == std::string_view::npos || dash < kProductStreamPrefix.size()) return std::nullopt;
  ProductStreamParts parts;
  parts.account = stream_id.substr(kProductStreamPrefix.size(), dash - kProductStreamPrefix.size());
  const std::string_view digits = stream_id.substr(dash + 1);
  const auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), parts.offer_id);
  if (digits.empty() || ec != std::errc() || p != digits.data() + digits.size()) return std::nullopt;
  return parts;
}

}  // namespace marketsync
