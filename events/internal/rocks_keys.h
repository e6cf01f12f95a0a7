#pragma once

// The RocksDB log's key layout (docs/event-log-format.md): `streams` rows and the head record
// (checkpoints, rebuild markers and projection versions: events/projection_meta.h); the
// mapping of RocksDB's statuses; the streams family's prefix extractor. Internal to events/.

#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/status.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/coding.h"
#include "base/status.h"
#include "events/event_log.h"
#include "events/projection_meta.h"

namespace marketsync::internal {

inline constexpr std::string_view kHeadKey = "head";
// Stream versions cached by the writer; cleared when it grows past this many streams.
inline constexpr size_t kMaxCachedStreams = 1 << 20;
// A group's write batch is kept for the next group unless it grew past this.
inline constexpr size_t kMaxKeptBatchBytes = 32u << 20;
// Most events one StreamAppend may carry (one streams row counts them in a u32).
inline constexpr size_t kMaxEventsPerStreamAppend = 1 << 20;

inline Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  std::string msg = std::string(what) + ": " + s.ToString();
  if (s.IsNotFound()) return Status::NotFound(std::move(msg));
  if (s.IsCorruption()) return Status::Corruption(std::move(msg));
  if (s.IsInvalidArgument()) return Status::InvalidArgument(std::move(msg));
  return Status::IOError(std::move(msg));
}

// Reads that may cross prefixes (a scan of a whole family). The streams family has a prefix
// extractor, and RocksDB's default read mode would stop honouring order past one stream.
inline rocksdb::ReadOptions TotalOrder() {
  rocksdb::ReadOptions ro;
  ro.total_order_seek = true;
  return ro;
}

// `streams` rows: one per run of consecutive events a step appends to a stream.
//   key   := stream_id 0x00 first_version:u64be
//   value := first_seq:u64be count:u32be      (versions first_version.. are seqs first_seq..)
// Sets *k to the key (a buffer the caller reuses).
inline void SetStreamKey(std::string* k, std::string_view stream_id, uint64_t version) {
  k->assign(stream_id);
  k->push_back('\0');
  internal::PutFixed64BE(k, version);
}

inline std::string StreamKey(std::string_view stream_id, uint64_t version) {
  std::string k;
  k.reserve(stream_id.size() + 9);
  SetStreamKey(&k, stream_id, version);
  return k;
}

inline std::string StreamValue(uint64_t first_seq, uint32_t count) {
  std::string v;
  internal::PutFixed64BE(&v, first_seq);
  internal::PutFixed32BE(&v, count);
  return v;
}

// The stream a `streams` key belongs to (the key without its version): the prefix that the
// family's bloom filters hold, so that looking up a stream that has no rows (every new product
// stream of a first sync) is a filter probe instead of a search of the memtable and every file.
// Reads stay inside one stream; Scan of the whole family asks for total order.
class StreamPrefix final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "marketsync.StreamPrefix.v1"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override { return {key.data(), key.size() - 8}; }
  bool InDomain(const rocksdb::Slice& key) const override { return key.size() >= 9; }
};

struct StreamRange {
  uint64_t first_version = 0;
  uint64_t first_seq = 0;
  uint32_t count = 0;
};

inline bool IsStreamKeyOf(std::string_view key, std::string_view stream_id) {
  return key.size() == stream_id.size() + 9 && key.substr(0, stream_id.size()) == stream_id &&
         key[stream_id.size()] == '\0';
}

inline Result<StreamRange> DecodeStreamRow(std::string_view key, std::string_view value) {
  if (value.size() != 12 || key.size() < 9) return Status::Corruption("malformed streams row");
  StreamRange r;
  r.first_version = internal::GetFixed64BE(key.data() + key.size() - 8);
  r.first_seq = internal::GetFixed64BE(value.data());
  r.count = internal::GetFixed32BE(value.data() + 8);
  if (r.count == 0) return Status::Corruption("empty streams row");
  return r;
}

inline std::string EncodeHead(const LogHead& head) {
  std::string v;
  internal::PutFixed64BE(&v, head.seq);
  v.append(reinterpret_cast<const char*>(head.hash.data()), head.hash.size());
  return v;
}

inline Result<LogHead> DecodeHead(std::string_view v) {
  if (v.size() != 8 + 32) return Status::Corruption("meta/head has " + std::to_string(v.size()) + " bytes, want 40");
  LogHead head;
  head.seq = internal::GetFixed64BE(v.data());
  std::copy(v.begin() + 8, v.end(), head.hash.begin());
  return head;
}

}  // namespace marketsync::internal
