#pragma once

// Scripted faults for the simulator. A script is JSON:
//
//   {"rules": [
//     {"account": "main", "resource": "read", "page": 3, "fault": "http_500", "times": 2},
//     {"account": "fbe", "nth": 5, "fault": "reset"},
//     {"probability": 0.05, "fault": "http_502"},
//     {"account": "main", "fault": "is_error", "message": "Something failed"}
//   ]}
//
// A rule matches a request when every field it sets matches: `account`; `resource` ("read" or
// "count"); `page` (currentPage of a read); `nth` (the account's nth request since start, from
// 1); `probability` (drawn from the simulator's seed). The first matching rule with firings
// left fires; `times` bounds its firings (absent: no bound).
// Faults: http_500, http_502, http_504, http_408, http_429, http_401, http_403, http_400,
// http_429 says Retry-After: `retry_after` seconds (default 1; 0: no Retry-After, only
// X-RateLimit-Remaining-3second: 0),
// slow (answers after `delay_ms`, default 5000), reset (closes the connection mid-body),
// truncated (a body cut in half), malformed (not JSON), is_error (isError with `message`),
// invalid_ip ("ERROR: Invalid vendor ip [...]").

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace marketsync::sim {

enum class FaultKind : uint8_t {
  kHttp500, kHttp502, kHttp504, kHttp408, kHttp429, kHttp401, kHttp403, kHttp400,
  kSlow, kReset, kTruncated, kMalformed, kIsError, kInvalidIp,
};

struct FaultRule {
  std::optional<std::string> account;
  std::optional<std::string> resource;
  std::optional<uint32_t> page;
  std::optional<uint64_t> nth;
  std::optional<double> probability;
  FaultKind fault = FaultKind::kHttp500;
  std::optional<uint32_t> times;
  std::string message;
  uint32_t delay_ms = 5000;
  uint32_t retry_after_s = 1;  // http_429's Retry-After header; 0 sends none
  uint32_t fired = 0;
};

struct RequestFacts {
  std::string_view account;
  std::string_view resource;  // "read" | "count"
  uint32_t page = 0;          // 0 for count
  uint64_t nth = 0;
};

// Thread safety: all methods are thread-safe.
class FaultScript {
 public:
  explicit FaultScript(uint64_t seed) : rng_state_(seed) {}
  // Replaces the rules. Errors: kInvalidArgument naming what is wrong; the old rules stay.
  Status Load(std::string_view json_text);
  void Clear();
  // The fault to inject for this request, if any (and counts the firing).
  std::optional<FaultRule> Match(const RequestFacts& facts);
  // The rules with their firing counts, as JSON.
  std::string ToJson() const;

 private:
  mutable std::mutex mu_;  // guards rules_ and rng_state_
  std::vector<FaultRule> rules_;
  uint64_t rng_state_;
};

std::optional<FaultKind> FaultKindFromName(std::string_view name);
std::string_view FaultKindName(FaultKind kind);

}  // namespace marketsync::sim
