#include "base/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace marketsync {
namespace {

constexpr uint32_t kPoly = 0x82F63B78u;  // reflected Castagnoli polynomial

constexpr std::array<uint32_t, 256> MakeTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kTable = MakeTable();

uint32_t Portable(const uint8_t* p, size_t n, uint32_t crc) {
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) crc = kTable[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

#if defined(__x86_64__)
// One crc32 instruction per 8 bytes, each waiting for the last (3 cycles of latency): ~2.7
// bytes a cycle. The register is the CRC without the pre- and post-inversion.
__attribute__((target("sse4.2"))) uint64_t Serial(const uint8_t* p, size_t n, uint64_t c) {
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c = __builtin_ia32_crc32di(c, v);
    p += 8;
    n -= 8;
  }
  auto c32 = static_cast<uint32_t>(c);
  while (n > 0) {
    c32 = __builtin_ia32_crc32qi(c32, *p);
    ++p;
    --n;
  }
  return c32;
}

// The register times x^e modulo the polynomial (reflected: bit 31 is x^0).
constexpr uint32_t XPowMod(uint32_t e) {
  uint32_t r = 0x80000000u;
  for (uint32_t i = 0; i < e; ++i) r = (r & 1) ? (r >> 1) ^ kPoly : r >> 1;
  return r;
}

// Three streams of `kBlock` bytes at once (the instruction issues one a cycle), joined by
// moving the first two registers past the bytes that follow them: register c followed by n
// zero bytes is c * x^(8n) mod P, one carry-less multiply by x^(8n-33) and one crc32 of the
// 64-bit product (the crc32 multiplies by x^32 and reduces; reflection costs one more x).
template <size_t kBlock>
struct ThreeWay {
  static constexpr uint64_t kShiftOne = XPowMod(8 * kBlock - 33);
  static constexpr uint64_t kShiftTwo = XPowMod(16 * kBlock - 33);
};

__attribute__((target("sse4.2,pclmul"))) uint64_t Shift(uint64_t c, uint64_t k) {
  const __m128i product = _mm_clmulepi64_si128(_mm_cvtsi64_si128(static_cast<int64_t>(c)),
                                               _mm_cvtsi64_si128(static_cast<int64_t>(k)), 0x00);
  return __builtin_ia32_crc32di(0, static_cast<uint64_t>(_mm_cvtsi128_si64(product)));
}

template <size_t kBlock>
__attribute__((target("sse4.2,pclmul"))) uint64_t Blocks(const uint8_t*& p, size_t& n, uint64_t c) {
  while (n >= 3 * kBlock) {
    uint64_t c1 = 0;
    uint64_t c2 = 0;
    for (size_t i = 0; i < kBlock; i += 8) {
      uint64_t v0;
      uint64_t v1;
      uint64_t v2;
      std::memcpy(&v0, p + i, 8);
      std::memcpy(&v1, p + kBlock + i, 8);
      std::memcpy(&v2, p + 2 * kBlock + i, 8);
      c = __builtin_ia32_crc32di(c, v0);
      c1 = __builtin_ia32_crc32di(c1, v1);
      c2 = __builtin_ia32_crc32di(c2, v2);
    }
    c = Shift(c, ThreeWay<kBlock>::kShiftTwo) ^ Shift(c1, ThreeWay<kBlock>::kShiftOne) ^ c2;
    p += 3 * kBlock;
    n -= 3 * kBlock;
  }
  return c;
}

__attribute__((target("sse4.2,pclmul"))) uint32_t Interleaved(const uint8_t* p, size_t n, uint32_t crc) {
  uint64_t c = ~crc & 0xFFFFFFFFu;
  c = Blocks<256>(p, n, c);  // 768 bytes a round
  c = Blocks<64>(p, n, c);   // then 192
  return ~static_cast<uint32_t>(Serial(p, n, c));
}

__attribute__((target("sse4.2"))) uint32_t Hardware(const uint8_t* p, size_t n, uint32_t crc) {
  return ~static_cast<uint32_t>(Serial(p, n, ~crc & 0xFFFFFFFFu));
}

bool HasSse42() {
  static const bool has = __builtin_cpu_supports("sse4.2");
  return has;
}
bool HasPclmul() {
  static const bool has = __builtin_cpu_supports("pclmul");
  return has;
}
#endif

}  // namespace

uint32_t Crc32c(const void* data, size_t n, uint32_t crc) {
  const auto* p = static_cast<const uint8_t*>(data);
#if defined(__x86_64__)
  if (HasSse42()) return HasPclmul() ? Interleaved(p, n, crc) : Hardware(p, n, crc);
#endif
  return Portable(p, n, crc);
}

}  // namespace marketsync
