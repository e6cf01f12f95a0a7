#pragma once

// The route table: every route once (method, path pattern, handler, auth role, metric label),
// and from it the dispatch, the 405 answers with their Allow header, and the metrics label of
// any path.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/internal/request.h"

namespace marketsync::http {

// Who may call a route: anyone, an auditor or operator token, or the operator token.
enum class Access : uint8_t { kOpen, kRead, kCommand };

struct Route {
  std::string method;   // "GET", "POST" or "DELETE"
  std::string pattern;  // "/api/v1/emag/products/sync/{id}": each {name} matches one non-empty segment
  Access access = Access::kRead;
  // Answers the request; empty for a route the server serves itself (a stream).
  std::function<Reply(const Request&)> handler;
};

// Thread safety: built once (Add), then read from any thread.
class RouteTable {
 public:
  void Add(Route route);

  struct Match {
    const Route* route = nullptr;  // nullptr: no route for this method (see Allowed)
    std::vector<std::string> args;  // the {name} segments, in order
  };
  // The route for a method and path (HEAD finds GET routes).
  Match Find(std::string_view method, std::string_view path) const;
  // The methods a path takes, "GET, DELETE"; empty for a path no route has.
  std::string Allowed(std::string_view path) const;
  // The pattern of the first route whose pattern matches the path (any method), or "other":
  // a label that folds ids away.
  std::string Label(std::string_view path) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

// Whether `path` matches `pattern` segment by segment, and its {name} segments into *args (in
// order) when it does.
bool MatchPattern(std::string_view pattern, std::string_view path, std::vector<std::string>* args);

}  // namespace marketsync::http
