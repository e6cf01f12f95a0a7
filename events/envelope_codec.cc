#include "events/envelope_codec.h"

#include "base/coding.h"
#include "base/crc32c.h"
#include "base/sha256.h"

namespace marketsync {
namespace {

using internal::PutFixedLE;

constexpr size_t kTrailerBytes = 32 + 4;  // hash + checksum

Status Corrupt(uint64_t seq, std::string_view why) {
  return Status::Corruption("seq " + std::to_string(seq) + ": " + std::string(why));
}

}  // namespace

std::string HashToHex(const Hash256& hash) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(64, '0');
  for (size_t i = 0; i < hash.size(); ++i) {
    out[2 * i] = kDigits[hash[i] >> 4];
    out[2 * i + 1] = kDigits[hash[i] & 0xF];
  }
  return out;
}

Status ValidateStreamId(std::string_view stream_id) {
  if (stream_id.empty() || stream_id.size() > kMaxStreamIdBytes) {
    return Status::InvalidArgument("stream id must be 1.." + std::to_string(kMaxStreamIdBytes) +
                                   " bytes");
  }
  if (stream_id.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("stream id must not contain NUL");
  }
  return Status::Ok();
}

Status ValidateEnvelopeFields(const Envelope& e, const EventTypeRegistry& types) {
  MS_RETURN_IF_ERROR(ValidateStreamId(e.stream_id));
  if (e.correlation_id.size() > kMaxCorrelationIdBytes) {
    return Status::InvalidArgument("correlation id longer than " +
                                   std::to_string(kMaxCorrelationIdBytes) + " bytes");
  }
  if (e.payload.size() > kMaxPayloadBytes) {
    return Status::InvalidArgument("payload of " + std::to_string(e.payload.size()) +
                                   " bytes exceeds the limit");
  }
  const EventTypeSpec* info = types.Find(e.type);
  if (info == nullptr) {
    return Status::InvalidArgument("unregistered event type " + std::to_string(e.type));
  }
  if (e.payload_version == 0 || e.payload_version > info->current_version) {
    return Status::InvalidArgument("payload version " + std::to_string(e.payload_version) +
                                   " of " + std::string(info->name) + " is not known");
  }
  return Status::Ok();
}

void SealAndEncodeEnvelope(Envelope& e, std::string* out) {
  const size_t start = out->size();
  out->reserve(start + 1 + 2 + 2 + 8 + 8 + 8 + 12 + e.stream_id.size() + e.correlation_id.size() +
               e.payload.size() + 32 + kTrailerBytes);
  PutFixedLE<uint8_t>(out, e.format_version);
  PutFixedLE<uint16_t>(out, e.type);
  PutFixedLE<uint16_t>(out, e.payload_version);
  PutFixedLE<uint64_t>(out, e.seq);
  PutFixedLE<uint64_t>(out, e.stream_version);
  PutFixedLE<int64_t>(out, e.recorded_at_us);
  PutFixedLE<uint32_t>(out, static_cast<uint32_t>(e.stream_id.size()));
  out->append(e.stream_id);
  PutFixedLE<uint32_t>(out, static_cast<uint32_t>(e.correlation_id.size()));
  out->append(e.correlation_id);
  PutFixedLE<uint32_t>(out, static_cast<uint32_t>(e.payload.size()));
  out->append(e.payload);
  out->append(reinterpret_cast<const char*>(e.prev_hash.data()), e.prev_hash.size());
  Sha256(out->data() + start, out->size() - start, e.hash.data());
  out->append(reinterpret_cast<const char*>(e.hash.data()), e.hash.size());
  const uint32_t crc = Crc32c(out->data() + start, out->size() - start);
  PutFixedLE<uint32_t>(out, crc);
}

Result<Envelope> DecodeEnvelope(std::string_view bytes, uint64_t key_seq, const EventTypeRegistry& types) {
  Envelope e;
  MS_RETURN_IF_ERROR(DecodeEnvelopeInto(bytes, key_seq, types, &e));
  return e;
}

Status DecodeEnvelopeInto(std::string_view bytes, uint64_t key_seq, const EventTypeRegistry& types, Envelope* out) {
  MS_RETURN_IF_ERROR(CheckEnvelopeChecksum(bytes, key_seq));
  return DecodeCheckedEnvelopeInto(bytes, key_seq, types, out);
}

Status CheckEnvelopeChecksum(std::string_view bytes, uint64_t key_seq) {
  if (bytes.size() < kTrailerBytes + 1) return Corrupt(key_seq, "value too short");
  const size_t crc_at = bytes.size() - 4;
  const auto stored_crc = internal::GetFixedLE<uint32_t>(bytes.data() + crc_at);
  if (Crc32c(bytes.data(), crc_at) != stored_crc) return Corrupt(key_seq, "bad checksum");
  return Status::Ok();
}

Status DecodeCheckedEnvelopeInto(std::string_view bytes, uint64_t key_seq, const EventTypeRegistry& types,
                                 Envelope* out) {
  if (bytes.size() < kTrailerBytes + 1) return Corrupt(key_seq, "value too short");
  internal::Reader r(bytes.substr(0, bytes.size() - kTrailerBytes));
  Envelope& e = *out;
  if (!r.Fixed(&e.format_version)) return Corrupt(key_seq, "truncated header");
  if (e.format_version != kEnvelopeFormatVersion) {
    return Corrupt(key_seq, "unknown format version " + std::to_string(e.format_version));
  }
  std::string_view stream_id, correlation_id, payload, prev_hash;
  if (!r.Fixed(&e.type) || !r.Fixed(&e.payload_version) || !r.Fixed(&e.seq) ||
      !r.Fixed(&e.stream_version) || !r.Fixed(&e.recorded_at_us) ||
      !r.LengthPrefixed(kMaxStreamIdBytes, &stream_id) ||
      !r.LengthPrefixed(kMaxCorrelationIdBytes, &correlation_id) ||
      !r.LengthPrefixed(kMaxPayloadBytes, &payload) || !r.Bytes(32, &prev_hash)) {
    return Corrupt(key_seq, "wrong length");
  }
  if (r.remaining() != 0) return Corrupt(key_seq, "wrong length: trailing bytes");
  const EventTypeSpec* info = types.Find(e.type);
  if (info == nullptr) return Corrupt(key_seq, "unknown event type " + std::to_string(e.type));
  if (e.payload_version == 0 || e.payload_version > info->current_version) {
    return Corrupt(key_seq, "unknown payload version " + std::to_string(e.payload_version) +
                                " of " + std::string(info->name));
  }
  e.stream_id.assign(stream_id);
  e.correlation_id.assign(correlation_id);
  e.payload.assign(payload);
  std::copy(prev_hash.begin(), prev_hash.end(), e.prev_hash.begin());
  const char* h = bytes.data() + bytes.size() - kTrailerBytes;
  std::copy(h, h + 32, e.hash.begin());
  return Status::Ok();
}

Hash256 ComputeStoredBodyHash(std::string_view bytes) {
  Hash256 out{};
  if (bytes.size() < kTrailerBytes) return out;
  Sha256(bytes.data(), bytes.size() - kTrailerBytes, out.data());
  return out;
}

std::string EncodeSeqKey(uint64_t seq) {
  std::string k;
  internal::PutFixed64BE(&k, seq);
  return k;
}

Result<uint64_t> DecodeSeqKey(std::string_view key) {
  if (key.size() != 8) {
    return Status::Corruption("events key of " + std::to_string(key.size()) + " bytes, want 8");
  }
  return internal::GetFixed64BE(key.data());
}

}  // namespace marketsync
