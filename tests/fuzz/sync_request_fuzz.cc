// What the HTTP layer reads from a request: input = a query string, a newline, a sync body.
// The query's parameters go through every parameter parser the routes use; the body through
// ParseSyncBody and both forms of ParseAccountBody.

#include <string>
#include <utility>
#include <vector>

#include "http/internal/params.h"
#include "http/internal/request.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace marketsync;
  const std::string_view text = fuzz::AsText(data, size);
  const size_t nl = text.find('\n');
  const std::string_view query = text.substr(0, nl);
  const std::string_view body = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
  http::Request req;
  req.method = "GET";
  req.path = "/api/v1/emag/products/offers/main/1/history";
  req.path_args = {"main", std::string(query.substr(0, query.find('&')))};
  size_t at = 0;
  while (at <= query.size()) {
    const size_t end = std::min(query.find('&', at), query.size());
    const std::string_view pair = query.substr(at, end - at);
    const size_t eq = pair.find('=');
    req.params.emplace_back(std::string(pair.substr(0, eq)),
                            eq == std::string_view::npos ? std::string() : std::string(pair.substr(eq + 1)));
    at = end + 1;
  }
  for (const char* name : {"limit", "offset", "days", "runs", "cursor", "account_type", "status"}) {
    (void)http::Param(req, name);
    (void)http::UintParam(req, name, 10, 1, 1000);
  }
  (void)http::TimeParam(req, "from");
  (void)http::TimeParam(req, "to");
  (void)http::AsOfParam(req);
  (void)http::OfferIdSegment(req, 1);
  (void)http::ParseSyncBody(body);
  (void)http::ParseAccountBody(body, true);
  (void)http::ParseAccountBody(body, false);
  return 0;
}
