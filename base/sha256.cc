#include "base/sha256.h"

// The low-level SHA-256 functions are deprecated in OpenSSL 3 in favour of EVP, but EVP
// re-initialises a provider context (a malloc and a free) on every digest, which cost more than
// hashing a 300-byte envelope; these use the same SHA-NI code on a context on the stack.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

namespace marketsync {

void Sha256(const void* data, size_t n, uint8_t* out) {
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, data, n);
  SHA256_Final(out, &ctx);
}

}  // namespace marketsync
