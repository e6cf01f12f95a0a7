#pragma once

#include <cstddef>
#include <cstdint>

namespace marketsync {

// SHA-256 of data into out[32] (OpenSSL, SHA-NI where the CPU has it). Thread-safe. See
// sha256.cc for why it does not go through EVP.
void Sha256(const void* data, size_t n, uint8_t* out);

}  // namespace marketsync
