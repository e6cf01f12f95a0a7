#pragma once

// The write side of the API (docs/API.md): start a sync, cancel a run, test an account's
// connection. Each answers only once what it did is durable (the engine's contract).

#include "engine/sync_engine.h"
#include "http/internal/context.h"
#include "http/internal/request.h"

namespace marketsync::http {

// Thread safety: every method may be called from any request thread.
class CommandHandlers {
 public:
  explicit CommandHandlers(ServerContext ctx) : ctx_(ctx) {}

  Reply StartSync(const Request& req);
  Reply CancelRun(const Request& req);
  Reply TestConnection(const Request& req);

 private:
  // run_async: false waits for every run's end (bounded by ServerOptions::sync_wait).
  Reply WaitForRuns(const StartSyncResult& started, const std::string& account_type);

  ServerContext ctx_;
};

}  // namespace marketsync::http
