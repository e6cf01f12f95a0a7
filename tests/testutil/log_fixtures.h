#pragma once

// Helpers to fill an EventLog in tests.

#include <cstdint>
#include <memory>
#include <string>

#include "events/event_log.h"
#include "events/projection.h"

namespace marketsync::testing {

// The event types of the log's own tests: the log is generic, so its tests register types of
// their own (1 "TestEvent" at version 1, 2 "OtherEvent" at version 2), not the sync schema's.
inline constexpr uint16_t kTestEventType = 1;
inline constexpr uint16_t kOtherEventType = 2;
const EventTypeRegistry& TestEventTypes();
// Options with TestEventTypes() and nothing else.
EventLogOptions TestLogOptions();
// TestLogOptions() with a CountingProjection registered.
EventLogOptions CountingLogOptions();

// A TestEvent whose payload names `n` and is padded to about `bytes` bytes (the log does not
// read payloads).
NewEvent MakePageEvent(uint32_t n, size_t bytes = 0);

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
