#include "tests/testutil/log_fixtures.h"

namespace marketsync::testing {

const EventTypeRegistry& TestEventTypes() {
  static const EventTypeRegistry types({{kTestEventType, "TestEvent", 1}, {kOtherEventType, "OtherEvent", 2}});
  return types;
}

EventLogOptions TestLogOptions() {
  EventLogOptions o;
  o.types = TestEventTypes();
  return o;
}

EventLogOptions CountingLogOptions() {
  EventLogOptions o = TestLogOptions();
  o.projections.push_back(std::make_unique<CountingProjection>());
  return o;
}

NewEvent MakePageEvent(uint32_t n, size_t bytes) {
  std::string payload = "event " + std::to_string(n);
  if (payload.size() < bytes) payload.resize(bytes, 'x');
  return NewEvent{kTestEventType, 1, std::move(payload)};
}

Step MakeStep(const std::string& stream, size_t events, size_t bytes, uint64_t expected_version) {
  Step step;
  step.correlation_id = "test";
  StreamAppend sa;
  sa.stream_id = stream;
  sa.expected_version = expected_version;
  for (size_t i = 0; i < events; ++i) sa.events.push_back(MakePageEvent(static_cast<uint32_t>(i + 1), bytes));
  step.streams.push_back(std::move(sa));
  return step;
}

Status CountingProjection::Apply(const Envelope& event, ProjectionStore& store) {
  if (event.stream_id == "poison") return Status::InvalidArgument("poisoned stream");
  MS_ASSIGN_OR_RETURN(auto current, store.Get(kFamily, event.stream_id));
  uint64_t n = current.has_value() ? std::stoull(*current) : 0;
  return store.Put(kFamily, event.stream_id, std::to_string(n + 1));
}

}  // namespace marketsync::testing
