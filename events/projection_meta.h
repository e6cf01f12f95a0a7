#pragma once

// Where every backend keeps a projection's bookkeeping in the `meta` family: its checkpoint
// (`checkpoint/<name>`: the last seq folded, u64 big-endian), the layout version of its rows
// (`projection_version/<name>`: u32 big-endian) and the marker of a rebuild in progress
// (`rebuilding/<name>`). One definition, so RocksDB and PostgreSQL agree byte for byte.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/coding.h"
#include "base/status.h"

namespace marketsync {

inline constexpr std::string_view kCheckpointPrefix = "checkpoint/";

inline std::string CheckpointKey(std::string_view projection) {
  return std::string(kCheckpointPrefix) + std::string(projection);
}

inline std::string RebuildMarkerKey(std::string_view projection) {
  return "rebuilding/" + std::string(projection);
}

inline std::string VersionKey(std::string_view projection) {
  return "projection_version/" + std::string(projection);
}

inline std::string EncodeCheckpoint(uint64_t seq) {
  std::string out;
  internal::PutFixed64BE(&out, seq);
  return out;
}

// A checkpoint row's seq (0 when absent). Errors: kCorruption (not 8 bytes).
inline Result<uint64_t> DecodeCheckpoint(std::string_view projection, const std::optional<std::string>& value) {
  if (!value.has_value()) return uint64_t{0};
  if (value->size() != 8) return Status::Corruption("checkpoint of " + std::string(projection) + " is not a seq");
  return internal::GetFixed64BE(value->data());
}

inline std::string EncodeVersion(uint32_t v) {
  std::string out;
  internal::PutFixed32BE(&out, v);
  return out;
}

// A version row's value (nullopt when absent; 0 when malformed, which matches no version).
inline std::optional<uint32_t> DecodeVersion(const std::optional<std::string>& value) {
  if (!value.has_value()) return std::nullopt;
  return value->size() == 4 ? internal::GetFixed32BE(value->data()) : 0;
}

}  // namespace marketsync
