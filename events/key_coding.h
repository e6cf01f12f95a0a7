#pragma once

// Big-endian integer coding for keys: big-endian keys sort numerically under RocksDB's
// bytewise comparator. For every folder that builds keys of its own.

#include <cstdint>
#include <string>

namespace marketsync {

inline void PutFixed64BE(std::string* out, uint64_t v) {
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>((v >> (56 - 8 * i)) & 0xFF);
  out->append(buf, 8);
}

inline uint64_t GetFixed64BE(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

inline void PutFixed32BE(std::string* out, uint32_t v) {
  char buf[4];
  for (int i = 0; i < 4; ++i) buf[i] = static_cast<char>((v >> (24 - 8 * i)) & 0xFF);
  out->append(buf, 4);
}

inline uint32_t GetFixed32BE(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

}  // namespace marketsync
