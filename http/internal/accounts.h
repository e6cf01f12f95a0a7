#pragma once

// The accounts routes (docs/API.md, "Accounts"): list and read with a read token; add, change
// and remove with the operator token. Answers carry an account's settings and history, never
// its credentials.

#include "http/internal/context.h"
#include "http/internal/request.h"

namespace marketsync::http {

// Thread safety: every method may be called from any request thread.
class AccountHandlers {
 public:
  explicit AccountHandlers(ServerContext ctx) : ctx_(ctx) {}

  Reply List(const Request& req);
  Reply Get(const Request& req);
  Reply Add(const Request& req);
  Reply Change(const Request& req);
  Reply Remove(const Request& req);

 private:
  ServerContext ctx_;
};

}  // namespace marketsync::http
