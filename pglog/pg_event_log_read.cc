// PgEventLog's reads: the head, envelopes by seq and by stream, key-value rows, snapshots.

#include <algorithm>
#include <cstring>
#include <utility>

#include "events/envelope_codec.h"
#include "pglog/internal/pg_event_log.h"
#include "pglog/kv_reader.h"
#include "pglog/pg_arrays.h"
#include "pglog/reader.h"
#include "pglog/schema.h"
#include "pglog/verify.h"

namespace marketsync::pglog::internal {
namespace {

constexpr size_t kReadPage = 1000;  // envelopes a read iterator fetches at a time

LogHead ToLogHead(const PgHead& h) {
  LogHead out;
  out.seq = h.seq;
  std::memcpy(out.hash.data(), h.hash.data(), std::min(h.hash.size(), out.hash.size()));
  return out;
}

// Stored envelopes from a seq up to the head as it was when the iterator was made (the log
// only grows, so that is one consistent view), a page of rows at a time on its own connection.
class PgStoredIterator final : public StoredEventIterator {
 public:
  PgStoredIterator(Result<ConnPool::Lease> lease, uint64_t from, uint64_t end)
      : next_(std::max<uint64_t>(from, 1)), end_(end) {
    if (!lease.ok()) {
      status_ = lease.status();
      return;
    }
    lease_.emplace(std::move(lease).value());
    Fill();
  }
  bool Valid() const override { return status_.ok() && at_ < rows_.size(); }
  void Next() override {
    if (Valid() && ++at_ >= rows_.size()) Fill();
  }
  uint64_t seq() const override { return rows_[at_].first; }
  std::string_view bytes() const override { return rows_[at_].second; }
  Status status() const override { return status_; }

 private:
  void Fill() {
    rows_.clear();
    at_ = 0;
    if (next_ > end_) return;
    auto page = ReadStoredPage(**lease_, next_, std::min<uint64_t>(kReadPage, end_ - next_ + 1));
    if (!page.ok()) {
      status_ = page.status();
      return;
    }
    rows_ = std::move(page).value();
    while (!rows_.empty() && rows_.back().first > end_) rows_.pop_back();
    if (!rows_.empty()) next_ = rows_.back().first + 1;
  }

  std::optional<ConnPool::Lease> lease_;
  uint64_t next_;
  const uint64_t end_;
  std::vector<std::pair<uint64_t, std::string>> rows_;
  size_t at_ = 0;
  Status status_;
};

class PgEventIterator final : public EventIterator {
 public:
  PgEventIterator(std::unique_ptr<StoredEventIterator> stored, const EventTypeRegistry& types)
      : stored_(std::move(stored)), types_(types) {
    Decode();
  }
  bool Valid() const override { return status_.ok() && stored_->Valid(); }
  void Next() override {
    stored_->Next();
    Decode();
  }
  const Envelope& envelope() const override { return envelope_; }
  void TakeEnvelope(Envelope* out) override { std::swap(*out, envelope_); }
  std::string_view raw() const override { return stored_->bytes(); }
  Status status() const override { return status_.ok() ? stored_->status() : status_; }

 private:
  void Decode() {
    if (stored_->Valid()) status_ = DecodeEnvelopeInto(stored_->bytes(), stored_->seq(), types_, &envelope_);
  }
  std::unique_ptr<StoredEventIterator> stored_;
  const EventTypeRegistry& types_;
  Envelope envelope_;
  Status status_;
};

// A KvIterator with the connection it reads on.
class LeasedKvIterator final : public KvIterator {
 public:
  LeasedKvIterator(ConnPool::Lease lease, std::unique_ptr<KvIterator> it)
      : lease_(std::move(lease)), it_(std::move(it)) {}
  void Seek(std::string_view key) override { it_->Seek(key); }
  void SeekForPrev(std::string_view key) override { it_->SeekForPrev(key); }
  void SeekToFirst() override { it_->SeekToFirst(); }
  void SeekToLast() override { it_->SeekToLast(); }
  bool Valid() const override { return it_->Valid(); }
  void Next() override { it_->Next(); }
  void Prev() override { it_->Prev(); }
  std::string_view key() const override { return it_->key(); }
  std::string_view value() const override { return it_->value(); }
  Status status() const override { return it_->status(); }

 private:
  ConnPool::Lease lease_;  // declared first: destroyed after the iterator that uses it
  std::unique_ptr<KvIterator> it_;
};

// Every family as of one head: a REPEATABLE READ, READ ONLY transaction on a connection of
// its own, rolled back when the snapshot goes.
class PgSnapshot final : public LogSnapshot {
 public:
  PgSnapshot(const PgEventLog& log, ConnPool::Lease lease, LogHead head)
      : log_(log), lease_(std::move(lease)), reader_(*lease_), head_(head) {}
  ~PgSnapshot() override { (void)lease_->Exec("ROLLBACK"); }
  const LogHead& head() const override { return head_; }
  Result<std::optional<std::string>> Get(std::string_view cf, std::string_view key) const override {
    MS_RETURN_IF_ERROR(log_.CheckFamily(cf));
    return reader_.Get(cf, key);
  }
  Result<std::unique_ptr<KvIterator>> Scan(std::string_view cf) const override {
    MS_RETURN_IF_ERROR(log_.CheckFamily(cf));
    return reader_.Scan(cf);
  }

 private:
  const PgEventLog& log_;
  ConnPool::Lease lease_;
  PgKvReader reader_;
  const LogHead head_;
};

}  // namespace

LogHead PgEventLog::Head() const {
  auto conn = readers_.Take();
  Result<PgHead> head = conn.ok() ? ReadHead(**conn) : Result<PgHead>(conn.status());
  std::lock_guard lk(head_mu_);
  if (head.ok() && head->seq >= last_head_.seq) last_head_ = ToLogHead(*head);
  return last_head_;  // the server unreachable: the last head this node saw
}

std::unique_ptr<StoredEventIterator> PgEventLog::ReadStored(uint64_t from_seq) const {
  const uint64_t end = Head().seq;
  return std::make_unique<PgStoredIterator>(readers_.Take(), from_seq, end);
}

std::unique_ptr<EventIterator> PgEventLog::Read(uint64_t from_seq) const {
  return std::make_unique<PgEventIterator>(ReadStored(from_seq), options_.types);
}

Result<std::vector<Envelope>> PgEventLog::ReadStream(std::string_view stream_id, uint64_t from_version) const {
  MS_ASSIGN_OR_RETURN(ConnPool::Lease conn, readers_.Take());
  return pglog::ReadStream(*conn, options_.types, stream_id, from_version);
}

Result<uint64_t> PgEventLog::StreamVersion(std::string_view stream_id) const {
  MS_ASSIGN_OR_RETURN(ConnPool::Lease conn, readers_.Take());
  return pglog::StreamVersion(*conn, stream_id);
}

Result<std::vector<std::string>> PgEventLog::StreamIds(std::string_view prefix) const {
  MS_ASSIGN_OR_RETURN(ConnPool::Lease conn, readers_.Take());
  return pglog::StreamIds(*conn, prefix);
}

// This node's appends wake the waiter at once, other nodes' by the head channel's
// notification (HeadListener); the head row is polled as well, often while the listener is not
// listening (starting, or reconnecting after a failover), rarely while it is (a notification
// sent just before LISTEN took hold is missed).
uint64_t PgEventLog::WaitForSeq(uint64_t after, std::chrono::milliseconds timeout) {
  std::call_once(listener_once_, [this] {
    listener_ = std::make_unique<HeadListener>(conninfo_, [this](uint64_t seq) {
      std::lock_guard lk(head_mu_);
      notified_head_ = std::max(notified_head_, seq);
      head_cv_.notify_all();
    });
  });
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const uint64_t head = Head().seq;
    const auto now = std::chrono::steady_clock::now();
    if (head > after || now >= deadline) return head;
    const auto poll = listener_->listening() ? std::chrono::milliseconds(1000) : std::chrono::milliseconds(50);
    std::unique_lock lk(head_mu_);
    const auto known = [&] { return std::max(local_head_, notified_head_); };
    if (head_cv_.wait_until(lk, std::min(deadline, now + poll), [&] { return known() > after; })) return known();
  }
}

Result<VerifyReport> PgEventLog::Verify(uint64_t from_seq, uint64_t to_seq) const {
  MS_ASSIGN_OR_RETURN(ConnPool::Lease conn, readers_.Take());
  return VerifyLog(*conn, options_.types, from_seq, to_seq);
}

Result<std::optional<std::string>> PgEventLog::Get(std::string_view cf, std::string_view key) const {
  MS_RETURN_IF_ERROR(CheckFamily(cf));
  MS_ASSIGN_OR_RETURN(ConnPool::Lease conn, readers_.Take());
  return GetKv(*conn, cf, key);
}

Result<std::unique_ptr<KvIterator>> PgEventLog::Scan(std::string_view cf) const {
  MS_RETURN_IF_ERROR(CheckFamily(cf));
  MS_ASSIGN_OR_RETURN(ConnPool::Lease conn, readers_.Take());
  PgKvReader reader(*conn);  // its iterators keep only the connection
  MS_ASSIGN_OR_RETURN(std::unique_ptr<KvIterator> it, reader.Scan(cf));
  return std::unique_ptr<KvIterator>(std::make_unique<LeasedKvIterator>(std::move(conn), std::move(it)));
}

Result<std::vector<std::optional<std::string>>> PgEventLog::MultiGet(std::string_view cf,
                                                                     const std::vector<std::string>& keys) const {
  MS_RETURN_IF_ERROR(CheckFamily(cf));
  std::vector<std::optional<std::string>> out(keys.size());
  if (keys.empty()) return out;
  MS_ASSIGN_OR_RETURN(ConnPool::Lease conn, readers_.Take());
  MS_ASSIGN_OR_RETURN(PgRows r, conn->Query("SELECT k.i, m.value FROM unnest($2::bytea[]) WITH ORDINALITY AS k(key, i) "
                                            "JOIN ms_kv m ON m.family = $1 AND m.key = k.key",
                                            {PgParam::Text(std::string(cf)), PgParam::Text(ByteaArray(keys))}));
  for (auto& row : r.rows) out[std::stoull(*row[0]) - 1] = std::move(row[1]);
  return out;
}

Result<std::unique_ptr<LogSnapshot>> PgEventLog::Snapshot() const {
  MS_ASSIGN_OR_RETURN(ConnPool::Lease conn, readers_.Take());
  MS_RETURN_IF_ERROR(conn->Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  auto head = ReadHead(*conn);  // the transaction's view starts here
  if (!head.ok()) {
    (void)conn->Exec("ROLLBACK");
    return head.status();
  }
  return std::unique_ptr<LogSnapshot>(std::make_unique<PgSnapshot>(*this, std::move(conn), ToLogHead(*head)));
}

}  // namespace marketsync::pglog::internal
