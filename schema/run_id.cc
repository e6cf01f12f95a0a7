#include "schema/run_id.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace marketsync {

std::string FormatRunId(int64_t requested_at_us, uint32_t random) {
  return fmt::format("{:016x}{:08x}", static_cast<uint64_t>(std::max<int64_t>(requested_at_us, 0)), random);
}

bool IsRunId(std::string_view text) {
  return text.size() == 24 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string RunIdTimePrefix(int64_t us) { return fmt::format("{:016x}", static_cast<uint64_t>(std::max<int64_t>(us, 0))); }

std::optional<int64_t> RunIdTimeUs(std::string_view run_id) {
  if (!IsRunId(run_id)) return std::nullopt;
  uint64_t us = 0;
  const auto [end, ec] = std::from_chars(run_id.data(), run_id.data() + 16, us, 16);
  if (ec != std::errc() || end != run_id.data() + 16 || us > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  return static_cast<int64_t>(us);
}

}  // namespace marketsync
