#pragma once

// Standard base64 (RFC 4648, with padding): the stored bytes in exports, HTTP Basic credentials.

#include <optional>
#include <string>
#include <string_view>

namespace marketsync {

std::string Base64Encode(std::string_view bytes);
// nullopt for text that is not canonical padded base64.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace marketsync
