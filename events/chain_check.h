#pragma once

// ChainCheck: what Verify checks, envelope by envelope, on any backend: seqs without a gap,
// each envelope decodable with its checksum, each prev_hash the hash before it, each hash its
// body's SHA-256, and the head at the end. The RocksDB log and the PostgreSQL one feed it their
// stored bytes in seq order, so `marketsync verify` finds the same things on both.

#include <cstdint>
#include <string>
#include <string_view>

#include "events/envelope.h"
#include "events/event_log.h"
#include "events/event_types.h"

namespace marketsync {

class ChainCheck {
 public:
  // Checks from `from_seq` (>= 1) on; `prev` is the hash of the envelope before it (zeros at 1).
  ChainCheck(const EventTypeRegistry& types, uint64_t from_seq, Hash256 prev);

  // The next stored envelope, under the seq its key says. False once a finding is made (the
  // report names it); nothing more is checked after that.
  bool Next(uint64_t key_seq, std::string_view bytes);
  // After the last envelope of [from_seq, last]: when the range reached the head (`to_seq` 0 or
  // at least head.seq), that nothing is missing before it and its hash is the last envelope's;
  // else that nothing is missing before `to_seq`.
  VerifyReport Finish(const LogHead& head, uint64_t to_seq);
  // A finding made outside the chain (the envelope before from_seq missing or bad, say).
  void Fail(uint64_t seq, std::string why);

  const VerifyReport& report() const { return report_; }
  uint64_t expected() const { return expected_; }  // the seq the next envelope must have

 private:
  const EventTypeRegistry& types_;
  uint64_t expected_;
  Hash256 prev_;
  VerifyReport report_;
};

// The hash of a stored envelope, decoded and checked (for the envelope before a range).
// Errors: kCorruption from the decode.
Result<Hash256> StoredEnvelopeHash(std::string_view bytes, uint64_t key_seq, const EventTypeRegistry& types);

}  // namespace marketsync
