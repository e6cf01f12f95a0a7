#pragma once

// Fixed-width integer coding, LevelDB style. Big-endian for keys (they sort numerically under
// RocksDB's bytewise comparator); little-endian, with a bounds-checked Reader, in
// marketsync::internal for the stored formats (the envelope).

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

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
