#include "engine/offer_fingerprint.h"

#include <optional>
#include <type_traits>

#include "events/payload_codec.h"
#include "events/sha256.h"

namespace marketsync {
namespace {

// Appends a canonical byte form of any Offer field.
class Canon {
 public:
  std::string& bytes() { return out_; }
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

 private:
  void AddInt(uint64_t v) {
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  }
  std::string out_;
};

uint64_t Fnv1a64(std::string_view s) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001B3ull;
  }
  return h;
}

std::vector<std::string> FieldNames() {
  std::vector<std::string> names;
  emag::Offer o;
  o.Visit([&names](const char* name, const auto&) { names.emplace_back(name); });
  return names;
}

}  // namespace

OfferFingerprint Fingerprint(const emag::Offer& offer) {
  OfferFingerprint fp;
  std::string whole;
  // The Visit of a const offer only reads.
  const_cast<emag::Offer&>(offer).Visit([&](const char* name, const auto& field) {
    Canon c;
    c.Add(std::string(name));
    c.Add(field);
    fp.field_hashes.push_back(Fnv1a64(c.bytes()));
    whole += c.bytes();
  });
  fp.content_hash.resize(32);
  Sha256(whole.data(), whole.size(), reinterpret_cast<uint8_t*>(fp.content_hash.data()));
  return fp;
}

std::vector<std::string> ChangedFields(const std::vector<uint64_t>& before, const std::vector<uint64_t>& after) {
  static const std::vector<std::string> names = FieldNames();
  std::vector<std::string> changed;
  for (size_t i = 0; i < names.size(); ++i) {
    const bool differs = before.size() != after.size() || i >= after.size() || before[i] != after[i];
    if (differs) changed.push_back(names[i]);
  }
  return changed;
}

std::string EncodeProductState(const ProductState& state) { return EncodeFields(state); }

Result<ProductState> DecodeProductState(std::string_view bytes) {
  return DecodeFields<ProductState>(bytes, "product state");
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
