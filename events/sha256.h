#pragma once

#include <cstddef>
#include <cstdint>

namespace marketsync {

// SHA-256 of data into out[32], through OpenSSL with the algorithm fetched once and a context
// reused per thread (OpenSSL 3's one-shot SHA256() fetches and frees the algorithm on every
// call, which cost more than the hashing itself for 300-byte envelopes).
void Sha256(const void* data, size_t n, uint8_t* out);

}  // namespace marketsync
