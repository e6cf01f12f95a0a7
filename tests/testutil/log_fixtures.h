#pragma once

// Helpers to fill an EventLog in tests.

#include <cstdint>
#include <memory>
#include <string>

#include "events/event_log.h"
#include "events/projection.h"

namespace marketsync::testing {

// A PageCommitted event whose payload is padded to about `bytes` bytes (through the field
// a real payload would not use that way; the log does not read payloads).
NewEvent MakePageEvent(uint32_t page, size_t bytes = 0);

// A step of `events` events on one stream, with no version check.
Step MakeStep(const std::string& stream, size_t events, size_t bytes = 0,
              uint64_t expected_version = kAnyVersion);

// A small projection for tests: counts events per stream in its family `counts`
// (key: stream id, value: decimal count) and refuses any event whose stream is "poison".
class CountingProjection final : public Projection {
 public:
  static constexpr std::string_view kFamily = "test_counts";
  std::string_view name() const override { return "counting"; }
  std::vector<std::string> column_families() const override { return {std::string(kFamily)}; }
  Status Apply(const Envelope& event, ProjectionStore& store) override;
};

}  // namespace marketsync::testing
