// The envelope decoder on arbitrary stored bytes (the key's seq taken from the bytes, so valid
// envelopes decode through to their payload), then the payload of what decoded.

#include <cstring>

#include "events/envelope_codec.h"
#include "schema/event_type.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace marketsync;
  const std::string_view bytes = fuzz::AsText(data, size);
  uint64_t key_seq = 0;
  if (size >= 13) std::memcpy(&key_seq, data + 5, sizeof(key_seq));  // after format, type, version
  (void)CheckEnvelopeChecksum(bytes, key_seq);
  Result<Envelope> e = DecodeEnvelope(bytes, key_seq, SyncEventTypes());
  if (e.ok()) {
    if (const EventTypeInfo* info = FindEventType(e->type)) (void)info->payload_to_json(e->payload_version, e->payload);
  }
  return 0;
}
