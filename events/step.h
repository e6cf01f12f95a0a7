#pragma once

// What a caller hands the event log to append: a Step (events for one or more streams with the
// versions they expect, writes to other column families, and conditions on them), and what it
// gets back. Values; cheap to include (no RocksDB).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace marketsync {

// Expected stream versions for StreamAppend.
inline constexpr uint64_t kAnyVersion = UINT64_MAX;  // no check
inline constexpr uint64_t kNoStream = 0;             // the stream must not exist yet

// One event to append; the log fills in everything else of its envelope.
struct NewEvent {
  uint16_t type = 0;
  uint16_t payload_version = 0;
  std::string payload;
};

// Events for one stream, appended only if the stream is at `expected_version`.
struct StreamAppend {
  std::string stream_id;
  uint64_t expected_version = kAnyVersion;
  std::vector<NewEvent> events;
};

// A write into a column family other than the log's own (`meta` keys, projection rows).
struct KeyValueWrite {
  std::string column_family;
  std::string key;
  std::optional<std::string> value;  // nullopt deletes the key
};

// A condition a step needs to hold when it is written (a lease free, a key unused).
struct KeyExpectation {
  std::string column_family;
  std::string key;
  std::optional<std::string> value;  // nullopt: the key must be absent
};

// A step: everything that must land together or not at all.
struct Step {
  std::string correlation_id;
  std::vector<StreamAppend> streams;
  std::vector<KeyValueWrite> writes;
  // Checked against the log as it stands with every earlier step of the same group applied.
  std::vector<KeyExpectation> expect;
};

struct AppendResult {
  uint64_t first_seq = 0;  // seqs of the step's events are first_seq..last_seq, no gaps
  uint64_t last_seq = 0;   // 0 when the step had no events
};

}  // namespace marketsync
