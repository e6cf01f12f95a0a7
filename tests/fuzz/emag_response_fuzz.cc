// The eMAG response parser: any body as a product_offer/read, /count and an error envelope.

#include "engine/emag/response_parser.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace marketsync::emag;
  const std::string_view body = marketsync::fuzz::AsText(data, size);
  (void)ParseReadResponse(body);
  (void)ParseCountResponse(body);
  (void)ParseEnvelope(body);
  (void)ParseDecimal4(body.substr(0, 64));
  return 0;
}
