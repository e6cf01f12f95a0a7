#pragma once

// Bearer token checks.

#include <string_view>

namespace marketsync::http {

// True when `given` is `expected` (never for an empty `expected`). The time it takes does not
// depend on where the two differ nor on their lengths: both are hashed (SHA-256) and the digests
// compared with CRYPTO_memcmp, so neither a prefix nor the length can be found by timing.
bool TokenEquals(std::string_view given, std::string_view expected);

}  // namespace marketsync::http
