#pragma once

// The projection hook: a read model folded from the log, written in the same batch as the
// events it folds, with its checkpoint (last applied seq) in that batch too.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/envelope.h"
#include "events/status.h"

namespace marketsync {

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
  // Folds one event. An error rejects the step that carried the event (nothing of it is
  // written); a projection returns one only for events it cannot make sense of.
  virtual Status Apply(const Envelope& event, ProjectionStore& store) = 0;
};

}  // namespace marketsync
