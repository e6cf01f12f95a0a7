#pragma once

// The projection hook: a read model folded from the log, written in the same batch as the
// events it folds, with its checkpoint (last applied seq) in that batch too.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/envelope.h"
#include "base/status.h"

namespace marketsync {

// Iterates one column family in key order. Must be destroyed before the reader that made it.
// Thread safety: one thread.
class KvIterator {
 public:
  virtual ~KvIterator() = default;
  virtual void Seek(std::string_view key) = 0;
  virtual void SeekForPrev(std::string_view key) = 0;
  virtual void SeekToFirst() = 0;
  virtual void SeekToLast() = 0;
  virtual bool Valid() const = 0;
  virtual void Next() = 0;
  virtual void Prev() = 0;
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
  virtual Status status() const = 0;
};

// Read access to projection rows: the live log (EventLog) or a fold held in memory
// (MemoryStore, for rebuilds, verification and "as of" queries). Queries over projections take
// a KvReader, so the same code answers live and as-of.
class KvReader {
 public:
  virtual ~KvReader() = default;
  // The value, or nullopt when the key is absent. Errors: kIOError, kInvalidArgument (no such
  // column family).
  virtual Result<std::optional<std::string>> Get(std::string_view cf, std::string_view key) const = 0;
  virtual Result<std::unique_ptr<KvIterator>> Scan(std::string_view cf) const = 0;
};

// What a projection reads and writes while it applies events. Reads see the writes of every
// earlier event of the same batch, so a projection folds as if each event were written alone.
// Thread safety: used by one thread (the log's writer) at a time.
class ProjectionStore {
 public:
  virtual ~ProjectionStore() = default;
  // The value, or nullopt when the key is absent. `cf` must be one of the projection's own
  // column families. Errors: kIOError from the database, kInvalidArgument for a foreign cf.
  virtual Result<std::optional<std::string>> Get(std::string_view cf, std::string_view key) = 0;
  virtual Status Put(std::string_view cf, std::string_view key, std::string_view value) = 0;
  virtual Status Delete(std::string_view cf, std::string_view key) = 0;
};

// A read model. Implementations must be deterministic: the same events give the same bytes, so
// a rebuild equals the live projection. Thread safety: Apply is called by one thread at a time.
class Projection {
 public:
  virtual ~Projection() = default;
  // A stable name, used in `checkpoint/<name>` and on the command line.
  virtual std::string_view name() const = 0;
  // The column families this projection owns; nothing else writes them.
  virtual std::vector<std::string> column_families() const = 0;
  // The layout of its rows. Bump it with any change to what Apply writes: a read-write open
  // that finds rows of another version rebuilds the projection before serving.
  virtual uint32_t version() const { return 1; }
  // Folds one event. An error rejects the step that carried the event (nothing of it is
  // written); a projection returns one only for events it cannot make sense of.
  virtual Status Apply(const Envelope& event, ProjectionStore& store) = 0;
  // A fold of the whole log from seq 1 into empty families (rebuild, verify, as-of) brackets
  // its Apply calls with these. A projection may then keep its state in its own form and write
  // it at EndFold; the rows it leaves must be exactly those Apply would have left event by
  // event (rebuild == live is checked by digest). Defaults: Apply writes through, as live.
  virtual void BeginFold() {}
  virtual Status EndFold(ProjectionStore& store) {
    (void)store;
    return Status::Ok();
  }
};

}  // namespace marketsync
