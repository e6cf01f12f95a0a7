#pragma once

// The server's workers. cpp-httplib gives each connection to one worker for its whole life
// (keep-alive included), so a fixed pool of N workers is stopped by N idle or slow clients:
// with 100 idle connections a /healthz waited more than two minutes. This one is a
// GrowingWorkerPool (base/worker_pool.h): `base` workers, one more whenever a connection arrives
// and none is free, up to `max`. No httplib here: server.cc installs it.

#include <cstddef>

namespace httplib {
class TaskQueue;
}  // namespace httplib

namespace marketsync::http {

// A new pool for Server::new_task_queue (httplib owns and deletes it).
httplib::TaskQueue* NewConnectionPool(size_t base, size_t max);

}  // namespace marketsync::http
