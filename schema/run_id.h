#pragma once

// The run-id format: 16 lower-case hex digits of the request time (UTC microseconds), then 8 of
// a random number. Ids sort by the time they were requested, which the history projection's
// time-range listing relies on (RunIdTimePrefix).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace marketsync {

// Ids are made a moment before the log records SyncRequested, and precede its recorded time
// by far less than this.
inline constexpr int64_t kRunIdSlackUs = 60'000'000;

std::string FormatRunId(int64_t requested_at_us, uint32_t random);
// True for text FormatRunId could have made: 24 lower-case hex digits.
bool IsRunId(std::string_view text);
// The 16-digit time prefix of ids requested at `us` (clamped at 0): ids requested at or after
// `us` sort at or after it.
std::string RunIdTimePrefix(int64_t us);
// The request time an id carries (UTC microseconds); nullopt for text that is not a run id.
std::optional<int64_t> RunIdTimeUs(std::string_view run_id);

}  // namespace marketsync
