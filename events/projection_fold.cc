#include "events/projection_fold.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

// Incremental SHA-256 without EVP's per-digest allocation (see sha256.cc).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "events/envelope_codec.h"
#include "base/coding.h"
#include "base/thread_name.h"

namespace marketsync {
namespace {

class MemoryIterator final : public KvIterator {
 public:
  explicit MemoryIterator(const std::vector<const MemoryStore::Row*>& rows) : rows_(rows), i_(rows.size()) {}
  void Seek(std::string_view key) override {
    i_ = std::lower_bound(rows_.begin(), rows_.end(), key, [](const MemoryStore::Row* r, std::string_view k) {
           return std::string_view(r->first) < k;
         }) - rows_.begin();
  }
  void SeekForPrev(std::string_view key) override {
    const size_t after = std::upper_bound(rows_.begin(), rows_.end(), key, [](std::string_view k, const MemoryStore::Row* r) {
                           return k < std::string_view(r->first);
                         }) - rows_.begin();
    i_ = after == 0 ? rows_.size() : after - 1;
  }
  void SeekToFirst() override { i_ = 0; }
  void SeekToLast() override { i_ = rows_.empty() ? 0 : rows_.size() - 1; }
  bool Valid() const override { return i_ < rows_.size(); }
  void Next() override { ++i_; }
  void Prev() override { i_ = i_ == 0 ? rows_.size() : i_ - 1; }
  std::string_view key() const override { return rows_[i_]->first; }
  std::string_view value() const override { return rows_[i_]->second; }
  Status status() const override { return Status::Ok(); }

 private:
  const std::vector<const MemoryStore::Row*>& rows_;
  size_t i_;
};

Status NoFamily(std::string_view cf) { return Status::InvalidArgument("no column family " + std::string(cf)); }

void UpdateLengthPrefixed(SHA256_CTX* ctx, std::string_view bytes) {
  std::string len;
  PutFixed64BE(&len, bytes.size());
  SHA256_Update(ctx, len.data(), len.size());
  SHA256_Update(ctx, bytes.data(), bytes.size());
}

}  // namespace

void MemoryStore::AddFamily(std::string_view cf) {
  families_.try_emplace(std::string(cf));
}

Result<MemoryStore::Family*> MemoryStore::Find(std::string_view cf) {
  auto it = families_.find(cf);
  if (it == families_.end()) return NoFamily(cf);
  return &it->second;
}

const MemoryStore::Family* MemoryStore::FindConst(std::string_view cf) const {
  auto it = families_.find(cf);
  return it == families_.end() ? nullptr : &it->second;
}

Result<std::optional<std::string>> MemoryStore::Get(std::string_view cf, std::string_view key) {
  return std::as_const(*this).Get(cf, key);
}

Result<std::optional<std::string>> MemoryStore::Get(std::string_view cf, std::string_view key) const {
  const Family* f = FindConst(cf);
  if (f == nullptr) return NoFamily(cf);
  auto it = f->rows.find(key);
  if (it == f->rows.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

Status MemoryStore::Put(std::string_view cf, std::string_view key, std::string_view value) {
  MS_ASSIGN_OR_RETURN(Family * f, Find(cf));
  if (auto it = f->rows.find(key); it != f->rows.end()) {
    it->second.assign(value);  // a new value does not move the order
    return Status::Ok();
  }
  f->rows.emplace(std::string(key), std::string(value));
  f->dirty = true;
  return Status::Ok();
}

Status MemoryStore::Delete(std::string_view cf, std::string_view key) {
  MS_ASSIGN_OR_RETURN(Family * f, Find(cf));
  if (auto it = f->rows.find(key); it != f->rows.end()) {
    f->rows.erase(it);
    f->dirty = true;
  }
  return Status::Ok();
}

void MemoryStore::Sort(const Family& f) const {
  auto& mf = const_cast<Family&>(f);
  std::lock_guard lk(mf.sort_mu);
  if (!f.dirty) return;
  mf.sorted.clear();
  mf.sorted.reserve(f.rows.size());
  for (const auto& row : f.rows) mf.sorted.push_back(&row);
  std::sort(mf.sorted.begin(), mf.sorted.end(), [](const Row* a, const Row* b) { return a->first < b->first; });
  mf.dirty = false;
}

const std::vector<const MemoryStore::Row*>& MemoryStore::SortedRows(std::string_view cf) const {
  static const std::vector<const Row*> kNone;
  const Family* f = FindConst(cf);
  if (f == nullptr) return kNone;
  Sort(*f);
  return f->sorted;
}

Result<std::unique_ptr<KvIterator>> MemoryStore::Scan(std::string_view cf) const {
  if (FindConst(cf) == nullptr) return NoFamily(cf);
  return std::unique_ptr<KvIterator>(std::make_unique<MemoryIterator>(SortedRows(cf)));
}

size_t MemoryStore::size() const {
  size_t n = 0;
  for (const auto& [name, f] : families_) n += f.rows.size();
  return n;
}

namespace {

// Two stages on two threads: a reader thread scans the stored envelopes, checks their checksums
// and copies their bytes into batches, while the folding thread decodes each envelope and
// applies the projections (decoding there, on the core that reads the envelope next, costs less
// than decoding on the reader and moving the result across). Batches go round a ring with one
// producer and one consumer; each side spins briefly before it sleeps, since on a busy pipeline
// the other side is about to move and a futex round trip per batch costs more than the wait.
// Buffers are reused round the ring.
class FoldRing {
 public:
  static constexpr size_t kBatch = 128;
  static constexpr uint64_t kBatches = 8;
  struct Stored {
    uint64_t seq = 0;
    std::string bytes;
    bool checksum_ok = false;  // false: the folding thread reports the corruption at this seq
  };
  struct Batch {
    std::vector<Stored> events{kBatch};
    size_t size = 0;
  };

  FoldRing(const EventLog& log, uint64_t to_seq) : log_(log), to_seq_(to_seq), ring_(kBatches) {}

  // The reader thread's work: fills batches until the log or to_seq ends, or Consume stops.
  void Produce() {
    SetThreadName("ms-fold-read");
    auto it = log_.ReadStored(1);
    uint64_t n = 0;  // batches produced
    Batch* b = nullptr;
    auto hand_over = [&] {
      produced_.store(++n, std::memory_order_release);
      produced_.notify_one();
      b = nullptr;
    };
    for (; it->Valid() && it->seq() <= to_seq_; it->Next()) {
      if (b == nullptr) {
        WaitFor(consumed_, consumed_.load(std::memory_order_acquire), [&] {
          return n - consumed_.load(std::memory_order_acquire) < kBatches || stop_.load(std::memory_order_acquire);
        });
        if (stop_.load(std::memory_order_acquire)) break;
        b = &ring_[n % kBatches];
        b->size = 0;
      }
      Stored& slot = b->events[b->size++];
      slot.seq = it->seq();
      slot.bytes.assign(it->bytes());
      slot.checksum_ok = CheckEnvelopeChecksum(slot.bytes, slot.seq).ok();
      if (b->size == kBatch) hand_over();
    }
    if (b != nullptr && b->size > 0) hand_over();
    reader_status_ = it->status();
    produced_.fetch_or(kDone, std::memory_order_release);
    produced_.notify_one();
  }

  // The folding thread's: hands each batch in order to apply(batch), which returns false to
  // stop early; returns when the reader is done or apply stopped.
  template <typename Apply>
  void Consume(Apply apply) {
    for (uint64_t next = 0;; ++next) {
      WaitFor(produced_, produced_.load(std::memory_order_acquire), [&] {
        const uint64_t p = produced_.load(std::memory_order_acquire);
        return (p & ~kDone) > next || (p & kDone) != 0;
      });
      if ((produced_.load(std::memory_order_acquire) & ~kDone) <= next) return;  // the reader is done
      const bool go_on = apply(ring_[next % kBatches]);
      if (!go_on) stop_.store(true, std::memory_order_release);
      consumed_.store(next + 1, std::memory_order_release);
      consumed_.notify_one();
      if (!go_on) return;
    }
  }

  // The reader's scan status; read after its thread was joined.
  const Status& reader_status() const { return reader_status_; }

 private:
  // Batches the reader has filled (modulo kBatches: the slot), plus kDone once it has stopped.
  static constexpr uint64_t kDone = uint64_t{1} << 63;

  // Waits until `ready()`, watching `counter` move from `seen`.
  template <typename Ready>
  static void WaitFor(const std::atomic<uint64_t>& counter, uint64_t seen, Ready ready) {
    for (int spin = 0; spin < 4000; ++spin) {
      if (ready()) return;
#if defined(__x86_64__)
      __builtin_ia32_pause();
#endif
    }
    while (!ready()) {
      counter.wait(seen, std::memory_order_acquire);
      seen = counter.load(std::memory_order_acquire);
    }
  }

  const EventLog& log_;
  const uint64_t to_seq_;
  std::vector<Batch> ring_;
  std::atomic<uint64_t> produced_{0};
  std::atomic<uint64_t> consumed_{0};  // batches the folding thread has applied and given back
  std::atomic<bool> stop_{false};      // set (before consumed_ moves) when folding stops early
  Status reader_status_;               // written by the reader before kDone
};

// Folds one batch into the projections; false once folding must stop (an error in *status,
// or the time limit reached).
bool ApplyBatch(const FoldRing::Batch& b, const EventLog& log, const std::vector<Projection*>& projections,
                MemoryStore& store, const FoldLimit& limit, const FoldProgress& progress, Envelope& e,
                FoldResult& result, Status* status) {
  for (size_t i = 0; i < b.size; ++i) {
    const FoldRing::Stored& stored = b.events[i];
    *status = stored.checksum_ok ? DecodeCheckedEnvelopeInto(stored.bytes, stored.seq, log.types(), &e)
                                 : CheckEnvelopeChecksum(stored.bytes, stored.seq);
    if (!status->ok()) return false;
    if (limit.to_time_us && e.recorded_at_us > *limit.to_time_us) return false;
    for (Projection* p : projections) {
      Status s = p->Apply(e, store);
      if (!s.ok()) {
        *status = s.WithContext(fmt::format("projection {} at seq {}", p->name(), e.seq));
        return false;
      }
    }
    result.last_seq = e.seq;
    result.last_recorded_at_us = e.recorded_at_us;
    ++result.events;
    if (progress && (e.seq & 0xFFFF) == 0) progress(e.seq);
  }
  return true;
}

Status EndFold(const std::vector<Projection*>& projections, MemoryStore& store) {
  for (Projection* p : projections) {
    Status s = p->EndFold(store);
    if (!s.ok()) return s.WithContext(fmt::format("projection {} at the end of a fold", p->name()));
  }
  return Status::Ok();
}

}  // namespace

Result<FoldResult> FoldLog(const EventLog& log, const std::vector<Projection*>& projections,
                           MemoryStore& store, const FoldLimit& limit, const FoldProgress& progress) {
  for (Projection* p : projections) {
    for (const auto& cf : p->column_families()) store.AddFamily(cf);
  }
  const uint64_t to_seq = std::min(limit.to_seq.value_or(UINT64_MAX), log.Head().seq);
  FoldResult result;
  for (Projection* p : projections) p->BeginFold();
  if (to_seq == 0) {
    MS_RETURN_IF_ERROR(EndFold(projections, store));
    return result;
  }
  FoldRing ring(log, to_seq);
  std::thread reader([&ring] { ring.Produce(); });
  Status apply_status;
  Envelope e;
  ring.Consume([&](const FoldRing::Batch& b) {
    return ApplyBatch(b, log, projections, store, limit, progress, e, result, &apply_status);
  });
  reader.join();
  MS_RETURN_IF_ERROR(apply_status);
  MS_RETURN_IF_ERROR(ring.reader_status());
  MS_RETURN_IF_ERROR(EndFold(projections, store));
  if (progress) progress(result.last_seq);
  return result;
}

Result<std::string> DigestFamilies(const KvReader& reader, const std::vector<std::string>& families) {
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  for (const auto& cf : families) {
    UpdateLengthPrefixed(&ctx, cf);
    MS_ASSIGN_OR_RETURN(auto it, reader.Scan(cf));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      UpdateLengthPrefixed(&ctx, it->key());
      UpdateLengthPrefixed(&ctx, it->value());
    }
    MS_RETURN_IF_ERROR(it->status());
  }
  Hash256 digest;
  SHA256_Final(digest.data(), &ctx);
  return HashToHex(digest);
}

Result<std::optional<RowDifference>> FirstDifference(const KvReader& live, const KvReader& rebuilt,
                                                     const std::vector<std::string>& families) {
  for (const auto& cf : families) {
    MS_ASSIGN_OR_RETURN(auto a, live.Scan(cf));
    MS_ASSIGN_OR_RETURN(auto b, rebuilt.Scan(cf));
    a->SeekToFirst();
    b->SeekToFirst();
    while (a->Valid() || b->Valid()) {
      if (!b->Valid() || (a->Valid() && a->key() < b->key())) {
        return std::optional<RowDifference>(RowDifference{cf, std::string(a->key()), "missing in rebuilt"});
      }
      if (!a->Valid() || b->key() < a->key()) {
        return std::optional<RowDifference>(RowDifference{cf, std::string(b->key()), "missing in live"});
      }
      if (a->value() != b->value()) {
        return std::optional<RowDifference>(RowDifference{cf, std::string(a->key()), "values differ"});
      }
      a->Next();
      b->Next();
    }
    MS_RETURN_IF_ERROR(a->status());
    MS_RETURN_IF_ERROR(b->status());
  }
  return std::optional<RowDifference>();
}

std::string PrintableKey(std::string_view key) {
  std::string out;
  for (unsigned char c : key) {
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  return out;
}

}  // namespace marketsync
