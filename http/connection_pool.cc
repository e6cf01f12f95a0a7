#include "http/internal/connection_pool.h"

#include <httplib.h>

#include "base/worker_pool.h"

namespace marketsync::http {
namespace {

// httplib's task queue on a pool that grows with the connections.
class ConnectionPool final : public httplib::TaskQueue {
 public:
  ConnectionPool(size_t base, size_t max) : pool_(base, max, "ms-http") {}
  void enqueue(std::function<void()> fn) override { pool_.Enqueue(std::move(fn)); }
  void shutdown() override { pool_.Shutdown(); }

 private:
  GrowingWorkerPool pool_;
};

}  // namespace

httplib::TaskQueue* NewConnectionPool(size_t base, size_t max) { return new ConnectionPool(base, max); }

}  // namespace marketsync::http
