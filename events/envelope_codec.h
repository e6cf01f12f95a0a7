#pragma once

// The stored byte layout of an envelope. docs/event-log-format.md holds the same grammar.
//
//   envelope       := body hash checksum
//   body           := format_version type payload_version seq stream_version recorded_at_us
//                     stream_id correlation_id payload prev_hash
//   format_version := u8                      (1)
//   type           := u16                     (a type the log's EventTypeRegistry holds)
//   payload_version:= u16                     (>= 1)
//   seq            := u64                     (>= 1)
//   stream_version := u64                     (>= 1)
//   recorded_at_us := i64                     (UTC microseconds since the Unix epoch)
//   stream_id      := length:u32 byte{length} (1..256 bytes, no NUL)
//   correlation_id := length:u32 byte{length} (0..256 bytes)
//   payload        := length:u32 byte{length} (cereal portable binary, < 64 MiB)
//   prev_hash      := byte{32}                (hash of the envelope at seq - 1; zeros at seq 1)
//   hash           := byte{32}                (SHA-256 of body)
//   checksum       := u32                     (CRC-32C of body and hash)
//
// Integers are little-endian. The value ends exactly after checksum. The key of an envelope in
// the `events` column family is its seq as a big-endian u64, so keys sort in seq order.

#include <cstdint>
#include <string>
#include <string_view>

#include "events/envelope.h"
#include "events/event_types.h"
#include "base/status.h"

namespace marketsync {

inline constexpr size_t kMaxStreamIdBytes = 256;
inline constexpr size_t kMaxCorrelationIdBytes = 256;
inline constexpr size_t kMaxPayloadBytes = 64u << 20;

// A stream id the log stores: 1..kMaxStreamIdBytes bytes, no NUL. Errors: kInvalidArgument.
Status ValidateStreamId(std::string_view stream_id);
// Checks the fields a writer controls: stream id, correlation id and payload sizes, a type and
// payload version that `types` registers.
Status ValidateEnvelopeFields(const Envelope& e, const EventTypeRegistry& types);

// Computes e.hash from every other field and appends the encoded envelope to *out.
// Requires ValidateEnvelopeFields(e).ok().
void SealAndEncodeEnvelope(Envelope& e, std::string* out);

// Decodes one stored value. `key_seq` is the seq the value was stored under and only names it
// in errors. Errors: kCorruption naming the seq for a wrong length, bad checksum, unknown format
// version, or a type or payload version `types` does not register. The hash is not recomputed
// here (the checksum covers it); Verify recomputes it.
Result<Envelope> DecodeEnvelope(std::string_view bytes, uint64_t key_seq, const EventTypeRegistry& types);
// The same, into *out, reusing its strings' capacity (for scans). *out is unspecified on error.
Status DecodeEnvelopeInto(std::string_view bytes, uint64_t key_seq, const EventTypeRegistry& types, Envelope* out);
// The two halves of DecodeEnvelopeInto, for a pipeline that checks on one thread and decodes
// on another: the checksum (kCorruption for a short value or a bad checksum), and the decode
// of bytes whose checksum CheckEnvelopeChecksum accepted.
Status CheckEnvelopeChecksum(std::string_view bytes, uint64_t key_seq);
Status DecodeCheckedEnvelopeInto(std::string_view bytes, uint64_t key_seq, const EventTypeRegistry& types,
                                 Envelope* out);

// Recomputes SHA-256 of the body of a stored value that DecodeEnvelope accepted.
Hash256 ComputeStoredBodyHash(std::string_view bytes);

// The events column family key for seq, and back. DecodeSeqKey fails unless key is 8 bytes.
std::string EncodeSeqKey(uint64_t seq);
Result<uint64_t> DecodeSeqKey(std::string_view key);

}  // namespace marketsync
