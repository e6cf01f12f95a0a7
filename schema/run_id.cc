#include "schema/run_id.h"

#include <fmt/format.h>

#include <algorithm>

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

}  // namespace marketsync
