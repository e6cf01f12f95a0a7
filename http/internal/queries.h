#pragma once

// The read side of the API (docs/API.md): status, history (live or as of a point), one run and
// its events, statistics, the overview, products and an offer's history, the log replay and the
// audit head. Each answers from the projections through a KvReader, or from the log itself.

#include "http/internal/as_of_cache.h"
#include "http/internal/context.h"
#include "http/internal/request.h"

namespace marketsync::http {

// Thread safety: every method may be called from any request thread.
class QueryHandlers {
 public:
  QueryHandlers(ServerContext ctx, AsOfCache& cache) : ctx_(ctx), cache_(cache) {}

  Reply History(const Request& req);
  Reply Current(const Request& req);  // GET /status: runs in flight and the latest runs
  Reply Run(const Request& req);
  Reply RunEvents(const Request& req);
  Reply Statistics(const Request& req);
  Reply Overview(const Request& req);      // GET /overview: the console's first view
  Reply OfferHistory(const Request& req);  // GET /offers/{account}/{offer_id}/history
  Reply Products(const Request& req);
  Reply Events(const Request& req);
  Reply AuditHead(const Request& req);

 private:
  ServerContext ctx_;
  AsOfCache& cache_;
};

}  // namespace marketsync::http
