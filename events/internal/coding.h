#pragma once

// Fixed-width little- and big-endian integer coding, LevelDB style.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "events/key_coding.h"

namespace marketsync::internal {

template <typename T>
inline void PutFixedLE(std::string* out, T v) {
  char buf[sizeof(T)];
  for (size_t i = 0; i < sizeof(T); ++i) buf[i] = static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xFF);
  out->append(buf, sizeof(T));
}

template <typename T>
inline T GetFixedLE(const char* p) {
  uint64_t v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return static_cast<T>(v);
}

using marketsync::GetFixed32BE;
using marketsync::GetFixed64BE;
using marketsync::PutFixed32BE;
using marketsync::PutFixed64BE;

// Reads fixed-width fields from a byte range, failing (not crashing) when it runs out.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  template <typename T>
  bool Fixed(T* v) {
    if (in_.size() < sizeof(T)) return false;
    *v = GetFixedLE<T>(in_.data());
    in_.remove_prefix(sizeof(T));
    return true;
  }
  bool Bytes(size_t n, std::string_view* v) {
    if (in_.size() < n) return false;
    *v = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  bool LengthPrefixed(size_t max, std::string_view* v) {
    uint32_t n = 0;
    if (!Fixed(&n) || n > max) return false;
    return Bytes(n, v);
  }
  size_t remaining() const { return in_.size(); }

 private:
  std::string_view in_;
};

}  // namespace marketsync::internal
