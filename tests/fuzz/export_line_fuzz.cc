// `marketsync import`'s line parser, then the envelope decoder on the bytes a line carries (what
// EventLog::Import checks before anything is written).

#include "events/envelope_codec.h"
#include "schema/event_type.h"
#include "tests/fuzz/fuzz_target.h"
#include "tools/marketsync/export_line.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace marketsync;
  Result<std::string> bytes = StoredBytesOfExportLine(fuzz::AsText(data, size));
  if (bytes.ok()) (void)DecodeEnvelope(*bytes, 1, SyncEventTypes());
  return 0;
}
