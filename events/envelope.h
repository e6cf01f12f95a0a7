#pragma once

// The envelope: one event as stored in the log. A value.

#include <array>
#include <cstdint>
#include <string>

namespace marketsync {

using Hash256 = std::array<uint8_t, 32>;

// The stored format this build writes; it also reads every older one.
inline constexpr uint8_t kEnvelopeFormatVersion = 1;

struct Envelope {
  uint8_t format_version = kEnvelopeFormatVersion;
  uint64_t seq = 0;             // global sequence, 1, 2, 3 ... with no gaps
  std::string stream_id;        // e.g. "run-01J..." or "product-main-123"
  uint64_t stream_version = 0;  // 1 for a stream's first event
  uint16_t type = 0;            // an EventType
  uint16_t payload_version = 0; // version of the type's payload layout
  int64_t recorded_at_us = 0;   // UTC microseconds since the Unix epoch
  std::string correlation_id;   // the command that caused it
  std::string payload;          // cereal portable binary
  Hash256 prev_hash{};          // hash of the envelope at seq - 1 (zeros for seq 1)
  Hash256 hash{};               // SHA-256 of this envelope, see envelope_codec.h

  friend bool operator==(const Envelope&, const Envelope&) = default;
};

// Lower-case hex of a hash.
std::string HashToHex(const Hash256& hash);

}  // namespace marketsync
