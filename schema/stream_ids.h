#pragma once

// The stream-id grammar of the sync domain (DESIGN.md §4), built and parsed here and nowhere
// else:
//   run stream     := "run-" run_id
//   product stream := "product-" account "-" offer_id      (offer_id: decimal, no sign)
//   account stream := "account-" account
// Account names may contain '-': a product stream splits at its last '-'.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace marketsync {

inline constexpr std::string_view kRunStreamPrefix = "run-";
inline constexpr std::string_view kProductStreamPrefix = "product-";
inline constexpr std::string_view kAccountStreamPrefix = "account-";

// "run-<id>".
std::string RunStreamId(std::string_view run_id);
bool IsRunStream(std::string_view stream_id);
// The run id of a run stream; empty for any other stream.
std::string_view RunIdOfStream(std::string_view stream_id);

// "account-<name>".
std::string AccountStreamId(std::string_view account);
bool IsAccountStream(std::string_view stream_id);

// "product-<account>-<offer id>".
std::string ProductStreamId(std::string_view account, uint64_t offer_id);
bool IsProductStream(std::string_view stream_id);
// True when stream_id is exactly ProductStreamId(account, offer_id) (no allocation).
bool IsProductStreamOf(std::string_view stream_id, std::string_view account, uint64_t offer_id);

struct ProductStreamParts {
  std::string_view account;
  uint64_t offer_id = 0;
};
// The account and offer of a product stream (the account a view into `stream_id`); nullopt for
// any other stream or a malformed one.
std::optional<ProductStreamParts> ParseProductStreamId(std::string_view stream_id);
// The account of a product stream without checking the offer id (empty for other streams).
std::string_view ProductStreamAccount(std::string_view stream_id);

}  // namespace marketsync
