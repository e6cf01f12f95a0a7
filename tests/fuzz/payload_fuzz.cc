// Every payload decoder: input = type (u16 LE), payload version (u16 LE), payload bytes.

#include <cstring>

#include "schema/event_type.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace marketsync;
  if (size < 4) return 0;
  uint16_t type = 0, version = 0;
  std::memcpy(&type, data, 2);
  std::memcpy(&version, data + 2, 2);
  if (const EventTypeInfo* info = FindEventType(type)) (void)info->payload_to_json(version, fuzz::AsText(data + 4, size - 4));
  return 0;
}
