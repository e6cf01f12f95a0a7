#pragma once

#include <cstddef>
#include <cstdint>

namespace marketsync {

// CRC-32C (Castagnoli) of data, continuing from crc (0 to start). Uses SSE4.2 when present.
uint32_t Crc32c(const void* data, size_t n, uint32_t crc = 0);

}  // namespace marketsync
