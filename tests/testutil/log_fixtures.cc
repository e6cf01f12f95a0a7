#include "tests/testutil/log_fixtures.h"

#include "events/payload_codec.h"
#include "events/sync_events.h"

namespace marketsync::testing {

NewEvent MakePageEvent(uint32_t page, size_t bytes) {
  PageFailed p;
  p.page = page;
  p.error_class = "retryable";
  p.message.assign(bytes > 40 ? bytes - 40 : 0, 'x');
  return MakeEvent(p);
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
