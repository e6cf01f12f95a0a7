#include "engine/offer_fingerprint.h"

#include <cstring>
#include <optional>
#include <type_traits>

#include <xxhash.h>

#include "base/crc32c.h"
#include "base/sha256.h"

namespace marketsync {
namespace {

// Appends a canonical byte form of any Offer field to a buffer it does not own.
class Canon {
 public:
  explicit Canon(std::string* out) : out_(*out) {}
  void Add(const std::string& s) {
    AddInt(s.size());
    out_ += s;
  }
  void Add(bool b) { out_.push_back(b ? 1 : 0); }
  template <typename T>
    requires std::is_integral_v<T>
  void Add(T v) {
    AddInt(static_cast<uint64_t>(v));
  }
  template <typename T>
  void Add(const std::optional<T>& v) {
    Add(v.has_value());
    if (v) Add(*v);
  }
  template <typename T>
  void Add(const std::vector<T>& items) {
    AddInt(items.size());
    for (const auto& item : items) Add(item);
  }
  template <typename T>
    requires requires(T t) { t.Visit([](const char*, auto&) {}); }
  void Add(const T& s) {
    const_cast<T&>(s).Visit([this](const char*, const auto& field) { Add(field); });
  }
  void AddName(const char* name) {
    const size_t n = std::char_traits<char>::length(name);
    AddInt(n);
    out_.append(name, n);
  }

 private:
  void AddInt(uint64_t v) {
    char buf[8];
    for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
    out_.append(buf, 8);
  }
  std::string& out_;
};

// Field hashes only name which fields changed (the content hash decides whether anything did),
// so a hardware CRC-32C does, at a fraction of a byte-wise hash's cost.
uint32_t FieldHash(std::string_view s) { return Crc32c(s.data(), s.size()); }

std::vector<std::string> FieldNames() {
  std::vector<std::string> names;
  emag::Offer o;
  o.Visit([&names](const char* name, const auto&) { names.emplace_back(name); });
  return names;
}

// The bytes AddName writes for each top-level field, in Visit order, built once.
const std::vector<std::string>& NameBytes() {
  static const std::vector<std::string> bytes = [] {
    std::vector<std::string> out;
    for (const std::string& name : FieldNames()) {
      std::string b;
      Canon(&b).AddName(name.c_str());
      out.push_back(std::move(b));
    }
    return out;
  }();
  return bytes;
}

}  // namespace

RawHash RawTextHash(std::string_view text) {
  XXH128_canonical_t canonical;
  XXH128_canonicalFromHash(&canonical, XXH3_128bits(text.data(), text.size()));
  RawHash out;
  static_assert(sizeof(canonical.digest) == sizeof(out));
  std::memcpy(out.data(), canonical.digest, out.size());
  return out;
}

OfferFingerprint Fingerprint(const emag::Offer& offer) {
  const std::vector<std::string>& names = NameBytes();
  OfferFingerprint fp;
  fp.field_hashes.reserve(names.size());
  thread_local std::string whole;
  whole.clear();
  Canon canon(&whole);
  size_t field = 0;
  // The Visit of a const offer only reads; it visits the fields in FieldNames' order.
  const_cast<emag::Offer&>(offer).Visit([&](const char*, const auto& value) {
    const size_t start = whole.size();
    whole += names[field++];
    canon.Add(value);
    fp.field_hashes.push_back(FieldHash(std::string_view(whole).substr(start)));
  });
  fp.content_hash.resize(32);
  Sha256(whole.data(), whole.size(), reinterpret_cast<uint8_t*>(fp.content_hash.data()));
  return fp;
}

std::vector<std::string> ChangedFields(const std::vector<uint32_t>& before, const std::vector<uint32_t>& after) {
  static const std::vector<std::string> names = FieldNames();
  std::vector<std::string> changed;
  for (size_t i = 0; i < names.size(); ++i) {
    const bool differs = before.size() != after.size() || i >= after.size() || before[i] != after[i];
    if (differs) changed.push_back(names[i]);
  }
  return changed;
}

// ProductState rows, by hand for speed (every offer of every run reads one):
//   row := version:u8 raw_hash:byte{32} content_hash:byte{32} part_number:str field_count:u16 field_hash{count}
//          last_run_id:str
//   raw_hash := RawTextHash, 16 bytes and 16 zeros (version 3) | SHA-256 (versions 1 and 2)
//   field_hash := u32 (versions 2 and 3) | u64 (version 1, rows written before; the
//                 values are CRC-32C either way)
//   str := length:u16 byte{length}
// Integers little-endian.
std::string EncodeProductState(const ProductState& state) {
  return EncodeProductState(ProductStateView{state.raw_hash, state.content_hash, state.part_number, state.field_hashes,
                                             state.last_run_id});
}

std::string EncodeProductState(const ProductStateView& state) {
  const size_t part_number = std::min<size_t>(state.part_number.size(), 0xFFFF);
  const size_t fields = std::min<size_t>(state.field_hashes.size(), 0xFFFF);
  const size_t run_id = std::min<size_t>(state.last_run_id.size(), 0xFFFF);
  // Sized once and filled in place: a page of offers encodes a hundred of these.
  std::string out(1 + 64 + 2 + part_number + 2 + 4 * fields + 2 + run_id, '\0');
  char* at = out.data();
  auto put = [&at](uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) *at++ = static_cast<char>((v >> (8 * i)) & 0xFF);
  };
  auto bytes = [&at](std::string_view s, size_t n) {
    std::memcpy(at, s.data(), n);
    at += n;
  };
  put(kFingerprintVersion, 1);
  for (std::string_view h : {state.raw_hash, state.content_hash}) {
    bytes(h, std::min<size_t>(h.size(), 32));
    at += 32 - std::min<size_t>(h.size(), 32);  // a shorter hash is padded with zeros
  }
  put(part_number, 2);
  bytes(state.part_number, part_number);
  put(fields, 2);
  for (size_t i = 0; i < fields; ++i) put(state.field_hashes[i], 4);
  put(run_id, 2);
  bytes(state.last_run_id, run_id);
  return out;
}

Result<ProductState> DecodeProductState(std::string_view bytes) {
  auto bad = [] { return Status::Corruption("malformed product state row"); };
  size_t at = 0;
  auto get = [&](int n, uint64_t* v) {
    if (bytes.size() - at < static_cast<size_t>(n)) return false;
    *v = 0;
    for (int i = 0; i < n; ++i) *v |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[at + i])) << (8 * i);
    at += static_cast<size_t>(n);
    return true;
  };
  auto str = [&](std::string* s) {
    uint64_t n = 0;
    if (!get(2, &n) || bytes.size() - at < n) return false;
    s->assign(bytes.substr(at, n));
    at += n;
    return true;
  };
  ProductState state;
  uint64_t v = 0;
  if (!get(1, &v)) return bad();
  state.fingerprint_version = static_cast<uint32_t>(v);
  if (v < 1 || v > 3) return Status::Corruption("product state row of unknown version " + std::to_string(v));
  if (bytes.size() - at < 64) return bad();
  state.raw_hash.assign(bytes.substr(at, 32));
  state.content_hash.assign(bytes.substr(at + 32, 32));
  at += 64;
  if (!str(&state.part_number) || !get(2, &v)) return bad();
  const int hash_bytes = state.fingerprint_version == 1 ? 8 : 4;
  state.field_hashes.resize(v);
  for (auto& h : state.field_hashes) {
    uint64_t hash = 0;
    if (!get(hash_bytes, &hash) || hash > UINT32_MAX) return bad();
    h = static_cast<uint32_t>(hash);
  }
  if (!str(&state.last_run_id) || at != bytes.size()) return bad();
  return state;
}

Result<std::string_view> StoredRawHash(std::string_view bytes) {
  if (bytes.size() < 1 + 64) return Status::Corruption("malformed product state row");
  return bytes.substr(1, 32);
}

Result<std::string_view> StoredPartNumber(std::string_view bytes) {
  constexpr size_t kAt = 1 + 64;
  if (bytes.size() < kAt + 2) return Status::Corruption("malformed product state row");
  const size_t n = static_cast<uint8_t>(bytes[kAt]) | static_cast<size_t>(static_cast<uint8_t>(bytes[kAt + 1])) << 8;
  if (bytes.size() - kAt - 2 < n) return Status::Corruption("malformed product state row");
  return bytes.substr(kAt + 2, n);
}

std::string ToHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xF]);
  }
  return out;
}

}  // namespace marketsync
