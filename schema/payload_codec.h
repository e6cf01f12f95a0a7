#pragma once

// Payload encoding: every payload struct lists its fields once, in a Visit member, and that one
// list drives the cereal portable-binary codec and the JSON rendering for auditors.
//
//   struct PageFailed {
//     static constexpr EventType kType = EventType::kPageFailed;
//     static constexpr uint16_t kVersion = 1;
//     uint32_t page = 0;
//     std::string message;
//     template <class V> void Visit(V&& v) { v("page", page); v("message", message); }
//   };
//
// A later payload version adds fields at the end and says how many fields each version has:
//   static constexpr size_t kFieldsByVersion[] = {5, 6};  // v1 had 5 fields, v2 has 6
// Older bytes decode into the first fields; the rest keep their defaults. Include this header only in .cc files: it brings in cereal.

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <bit>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#include "base/status.h"
#include "events/step.h"
#include "schema/event_type.h"

namespace marketsync {

template <typename T>
concept Payload = requires(T t) {
  { T::kType } -> std::convertible_to<EventType>;
  { T::kVersion } -> std::convertible_to<uint16_t>;
};

namespace payload_internal {

template <typename T>
concept Visitable = requires(T t) { t.Visit([](const char*, auto&) {}); };

template <typename T>
concept Sequence = requires(T t) { typename T::value_type; t.emplace_back(); };

// `limit` bounds every length read back from stored bytes, so a corrupt length fails instead of
// allocating: no element or string can be longer than the payload that holds it.
template <class Archive, typename T>
void Archive1(Archive& ar, T& field, size_t limit);

template <class Archive, typename T>
void ArchiveFields(Archive& ar, T& value, size_t limit, size_t max_fields = SIZE_MAX) {
  size_t n = 0;
  value.Visit([&ar, limit, max_fields, &n](const char*, auto& field) {
    if (n++ < max_fields) Archive1(ar, field, limit);
  });
}

template <class Archive>
cereal::size_type ArchiveSize(Archive& ar, size_t current, size_t limit) {
  cereal::size_type n = current;
  ar(cereal::make_size_tag(n));
  if (Archive::is_loading::value && n > limit) {
    throw std::length_error("length " + std::to_string(n) + " exceeds the payload size");
  }
  return n;
}

template <class Archive, typename T>
void Archive1(Archive& ar, T& field, size_t limit) {
  if constexpr (Visitable<T>) {
    ArchiveFields(ar, field, limit);
  } else if constexpr (std::is_same_v<T, std::string>) {
    cereal::size_type n = ArchiveSize(ar, field.size(), limit);
    if (Archive::is_loading::value) field.resize(static_cast<size_t>(n));
    ar(cereal::binary_data(field.data(), static_cast<size_t>(n)));
  } else if constexpr (Sequence<T>) {
    cereal::size_type n = ArchiveSize(ar, field.size(), limit);
    if (Archive::is_loading::value) {
      field.clear();
      for (cereal::size_type i = 0; i < n; ++i) Archive1(ar, field.emplace_back(), limit);
    } else {
      for (auto& item : field) Archive1(ar, item, limit);
    }
  } else {
    static_assert(std::is_arithmetic_v<T>, "payload fields are numbers, strings, lists or structs");
    ar(field);
  }
}

// Writes exactly what cereal's PortableBinaryOutputArchive writes on a little-endian machine
// (a one-byte endianness tag, then every integer little-endian, a bool as one byte, a size tag as
// a u64), straight into a string: no ostream on the write path, which every page of every run
// takes. Decoding goes through cereal itself, so the format cannot drift (payload_codec_test
// checks the bytes against cereal's own).
class PortableWriter {
 public:
  explicit PortableWriter(std::string* out) : out_(*out) { out_.push_back(static_cast<char>(1)); }
  template <typename T>
    requires std::is_arithmetic_v<T>
  void Put(T v) {
    static_assert(std::endian::native == std::endian::little, "big-endian hosts need byte swaps here");
    char buf[sizeof(T)];
    std::memcpy(buf, &v, sizeof(T));
    out_.append(buf, sizeof(T));
  }
  void PutBytes(const std::string& s) {
    Put<uint64_t>(s.size());
    out_.append(s);
  }

 private:
  std::string& out_;
};

// Counts the bytes PortableWriter would write: encoders reserve once instead of growing the
// string by doubling (a page's events are ~2 KB each; growing one cost ~8 reallocations).
class PortableSizer {
 public:
  template <typename T>
    requires std::is_arithmetic_v<T>
  void Put(T) {
    bytes_ += sizeof(T);
  }
  void PutBytes(const std::string& s) { bytes_ += sizeof(uint64_t) + s.size(); }
  size_t bytes() const { return bytes_; }

 private:
  size_t bytes_ = 1;  // the endianness tag
};

template <typename W, typename T>
void WriteField(W& w, const T& field) {
  if constexpr (Visitable<T>) {
    const_cast<T&>(field).Visit([&w](const char*, const auto& f) { WriteField(w, f); });
  } else if constexpr (std::is_same_v<T, std::string>) {
    w.PutBytes(field);
  } else if constexpr (Sequence<T>) {
    w.template Put<uint64_t>(field.size());
    for (const auto& item : field) WriteField(w, item);
  } else {
    static_assert(std::is_arithmetic_v<T>, "payload fields are numbers, strings, lists or structs");
    w.Put(field);
  }
}

// Reads stored bytes in place: no copy into a stringstream for every decode.
class ViewBuf final : public std::streambuf {
 public:
  explicit ViewBuf(std::string_view bytes) {
    char* p = const_cast<char*>(bytes.data());  // only read: the get area is never written
    setg(p, p, p + bytes.size());
  }
};

// Reads what PortableWriter (and cereal's PortableBinaryOutputArchive on a little-endian host)
// wrote, straight from the bytes: cereal's input archive goes through std::istream, a virtual
// call per field, which was most of a payload decode in rebuilds. The same bounds as cereal's
// path: every length is checked against `limit` and the bytes left. Throws on bad input, like
// cereal; DecodeFields turns that into kCorruption. payload_codec_test checks it against cereal.
class PortableReader {
 public:
  explicit PortableReader(std::string_view bytes) : p_(bytes.data()), end_(bytes.data() + bytes.size()) {
    uint8_t tag = 0;
    Get(tag);
    if (tag != 1) throw std::runtime_error("not little-endian portable binary (tag " + std::to_string(tag) + ")");
  }
  template <typename T>
    requires std::is_arithmetic_v<T>
  void Get(T& v) {
    Need(sizeof(T));
    if constexpr (std::is_same_v<T, bool>) {
      v = *p_ != 0;
    } else {
      std::memcpy(&v, p_, sizeof(T));
    }
    p_ += sizeof(T);
  }
  uint64_t Size(size_t limit) {
    uint64_t n = 0;
    Get(n);
    if (n > limit) throw std::length_error("length " + std::to_string(n) + " exceeds the payload size");
    return n;
  }
  void SkipBytes(size_t limit) {
    const uint64_t n = Size(limit);
    Need(n);
    p_ += n;
  }
  void GetBytes(std::string& s, size_t limit) {
    const uint64_t n = Size(limit);
    Need(n);
    s.assign(p_, static_cast<size_t>(n));
    p_ += n;
  }
  bool AtEnd() const { return p_ == end_; }

 private:
  void Need(uint64_t n) const {
    if (static_cast<uint64_t>(end_ - p_) < n) {
      throw std::runtime_error("Failed to read " + std::to_string(n) + " bytes from input stream");
    }
  }
  const char* p_;
  const char* end_;
};

template <typename T>
void ReadField(PortableReader& r, T& field, size_t limit) {
  if constexpr (Visitable<T>) {
    field.Visit([&r, limit](const char*, auto& f) { ReadField(r, f, limit); });
  } else if constexpr (std::is_same_v<T, std::string>) {
    r.GetBytes(field, limit);
  } else if constexpr (Sequence<T>) {
    const uint64_t n = r.Size(limit);
    field.clear();
    for (uint64_t i = 0; i < n; ++i) ReadField(r, field.emplace_back(), limit);
  } else {
    static_assert(std::is_arithmetic_v<T>, "payload fields are numbers, strings, lists or structs");
    r.Get(field);
  }
}

}  // namespace payload_internal

// The stored bytes of any struct with a Visit member (payloads, and state rows kept beside the
// log).
template <typename T>
  requires payload_internal::Visitable<T>
std::string EncodeFields(const T& value) {
  payload_internal::PortableSizer sizer;
  payload_internal::WriteField(sizer, value);
  std::string out;
  out.reserve(sizer.bytes());
  payload_internal::PortableWriter w(&out);
  payload_internal::WriteField(w, value);
  return out;
}

// The same bytes through cereal's own archive (tests compare the two).
template <typename T>
  requires payload_internal::Visitable<T>
std::string EncodeFieldsWithCereal(const T& value) {
  std::ostringstream os(std::ios::binary);
  {
    cereal::PortableBinaryOutputArchive ar(os);
    payload_internal::ArchiveFields(ar, const_cast<T&>(value), SIZE_MAX);
  }
  return std::move(os).str();
}

// Decodes EncodeFields bytes into `out`, reusing its strings' capacity (a hot loop keeps one
// `out` and decodes without allocating). Fields past `max_fields` are reset, as is a skipped
// string; `out` is unspecified after an error. Errors: kCorruption (never an exception) naming
// `what` when the bytes end early or are left over.
template <typename T>
  requires payload_internal::Visitable<T>
Status DecodeFieldsInto(std::string_view bytes, std::string_view what, T& out, size_t max_fields = SIZE_MAX,
                        std::string_view skip = {}) {
  try {
    payload_internal::PortableReader r(bytes);
    size_t n = 0;
    out.Visit([&r, &n, max_fields, skip, limit = bytes.size()](const char* name, auto& field) {
      using Field = std::decay_t<decltype(field)>;
      if (n++ >= max_fields) {
        field = Field{};
        return;
      }
      if constexpr (std::is_same_v<Field, std::string>) {
        if (!skip.empty() && skip == name) {
          field.clear();
          return r.SkipBytes(limit);
        }
      }
      payload_internal::ReadField(r, field, limit);
    });
    if (!r.AtEnd()) return Status::Corruption("trailing bytes after " + std::string(what));
  } catch (const std::exception& e) {
    return Status::Corruption("undecodable " + std::string(what) + ": " + e.what());
  }
  return Status::Ok();
}

// The same into a new value.
template <typename T>
  requires payload_internal::Visitable<T>
Result<T> DecodeFields(std::string_view bytes, std::string_view what, size_t max_fields = SIZE_MAX,
                       std::string_view skip = {}) {
  T out;
  MS_RETURN_IF_ERROR(DecodeFieldsInto(bytes, what, out, max_fields, skip));
  return out;
}

// The same through cereal's own input archive (tests compare the two).
template <typename T>
  requires payload_internal::Visitable<T>
Result<T> DecodeFieldsWithCereal(std::string_view bytes, std::string_view what, size_t max_fields = SIZE_MAX) {
  T out;
  try {
    payload_internal::ViewBuf buf(bytes);
    std::istream is(&buf);
    cereal::PortableBinaryInputArchive ar(is);
    payload_internal::ArchiveFields(ar, out, bytes.size(), max_fields);
    if (is.peek() != std::char_traits<char>::eof()) {
      return Status::Corruption("trailing bytes after " + std::string(what));
    }
  } catch (const std::exception& e) {
    return Status::Corruption("undecodable " + std::string(what) + ": " + e.what());
  }
  return out;
}

// A payload's stored bytes.
template <Payload T>
std::string EncodePayload(const T& payload) {
  return EncodeFields(payload);
}

// Decodes stored bytes of the given version into `out` (reusing its strings, as
// DecodeFieldsInto); a top-level string field named `skip_string_field` is stepped over and
// left empty (e.g. raw_json, for read models that do not need it). Errors: kCorruption (never
// an exception) when the version is unknown, the bytes end early, or bytes are left over.
// How many of T's fields (in Visit order) a payload of `version` (1..T::kVersion) has.
template <Payload T>
constexpr size_t FieldsOfVersion(uint16_t version) {
  if constexpr (requires { T::kFieldsByVersion; }) {
    static_assert(std::size(T::kFieldsByVersion) == T::kVersion, "one field count per version");
    return T::kFieldsByVersion[version - 1];
  }
  return SIZE_MAX;
}

template <Payload T>
Status DecodePayloadInto(uint16_t version, std::string_view bytes, T& out, std::string_view skip_string_field = {}) {
  if (version == 0 || version > T::kVersion) {
    return Status::Corruption("unknown payload version " + std::to_string(version) + " of " +
                              EventTypeName(static_cast<uint16_t>(T::kType)));
  }
  // The name only matters in an error: no string is built per decode.
  Status s = DecodeFieldsInto<T>(bytes, "payload", out, FieldsOfVersion<T>(version), skip_string_field);
  if (!s.ok()) return s.WithContext(EventTypeName(static_cast<uint16_t>(T::kType)));
  return s;
}

// The same into a new value.
template <Payload T>
Result<T> DecodePayload(uint16_t version, std::string_view bytes, std::string_view skip_string_field = {}) {
  T out;
  MS_RETURN_IF_ERROR(DecodePayloadInto(version, bytes, out, skip_string_field));
  return out;
}

// A payload as an event to append.
template <Payload T>
NewEvent MakeEvent(const T& payload) {
  return NewEvent{static_cast<uint16_t>(T::kType), T::kVersion, EncodePayload(payload)};
}

}  // namespace marketsync
