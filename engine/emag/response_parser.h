#pragma once

// Parsing of eMAG response bodies. Pure functions over bytes: no I/O.

#include <string>
#include <string_view>
#include <vector>

#include "engine/emag/offer.h"
#include "base/status.h"

namespace marketsync::emag {

// What the envelope `{"isError", "messages", "results", "errors"}` said.
struct EnvelopeInfo {
  bool is_error = false;
  std::vector<std::string> messages;  // strings, or the text of {"text"|"message"[,"field"]}
};

// Parses a product_offer/read body. Errors: kCorruption for a body that is not JSON or not the
// envelope (callers treat it as retryable: truncated or malformed); kFailedPrecondition when
// isError is true, with eMAG's messages joined.
Result<OfferPage> ParseReadResponse(std::string_view body);
// Parses a product_offer/count body; the same errors.
Result<OfferCount> ParseCountResponse(std::string_view body);
// Parses just the envelope (isError and messages); kCorruption when it is not one.
Result<EnvelopeInfo> ParseEnvelope(std::string_view body);

// Parses decimals as eMAG sends them ("42.0168", 42.0168, 42); at most 4 places after the dot.
Result<Decimal4> ParseDecimal4(std::string_view text);

}  // namespace marketsync::emag
