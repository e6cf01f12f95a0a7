#pragma once

// ChainCheck: what Verify checks, envelope by envelope, on any backend: seqs without a gap,
// each envelope decodable with its checksum, each prev_hash the hash before it, each hash its
// body's SHA-256, and the head at the end. The RocksDB log and the PostgreSQL one feed it their
// stored bytes in seq order, so `marketsync verify` finds the same things on both.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "events/envelope.h"
#include "events/event_log.h"
#include "events/event_types.h"

namespace marketsync {

class ChainCheck {
 public:
  // Checks from `from_seq` (>= 1) on.
  ChainCheck(const EventTypeRegistry& types, uint64_t from_seq);

  // Before the first Next of a range starting past seq 1: the stored envelope at from_seq - 1
  // (nullopt when there is none), whose hash the range must chain from. False with a finding
  // when it is missing or does not decode.
  bool StartAfter(const std::optional<std::string_view>& stored_before);

  // The next stored envelope, under the seq its key says. False once a finding is made (the
  // report names it); nothing more is checked after that.
  bool Next(uint64_t key_seq, std::string_view bytes);
  // After the last envelope of [from_seq, last]: when the range reached the head (`to_seq` 0 or
  // at least head.seq), that nothing is missing before it and its hash is the last envelope's;
  // else that nothing is missing before `to_seq`.
  VerifyReport Finish(const LogHead& head, uint64_t to_seq);
  // A finding made outside the chain (a malformed key, say).
  void Fail(uint64_t seq, std::string why);

  const VerifyReport& report() const { return report_; }
  uint64_t expected() const { return expected_; }  // the seq the next envelope must have

 private:
  const EventTypeRegistry& types_;
  uint64_t expected_;
  Hash256 prev_{};
  VerifyReport report_;
};

}  // namespace marketsync
