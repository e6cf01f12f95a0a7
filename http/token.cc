#include "http/internal/token.h"

#include <openssl/crypto.h>

#include <array>

#include "base/sha256.h"

namespace marketsync::http {

bool TokenEquals(std::string_view given, std::string_view expected) {
  std::array<uint8_t, 32> a{};
  std::array<uint8_t, 32> b{};
  Sha256(given.data(), given.size(), a.data());
  Sha256(expected.data(), expected.size(), b.data());
  const bool same = CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
  return same && !expected.empty();
}

}  // namespace marketsync::http
