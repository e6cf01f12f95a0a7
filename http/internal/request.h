#pragma once

// A request as the handlers see it and the reply they give: plain values, so handlers and their
// validation are testable without a server and cpp-httplib stays in server.cc.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace marketsync::http {

struct Request {
  std::string method;  // "GET", "POST", "DELETE" (HEAD is served as GET)
  std::string path;    // "/api/v1/emag/products/sync/abc"
  std::string target;  // path and query, as sent
  std::string body;
  std::vector<std::string> path_args;  // the {name} segments of the route's pattern, in order
  std::vector<std::pair<std::string, std::string>> params;   // decoded query parameters
  std::vector<std::pair<std::string, std::string>> headers;

  // The first {name} segment of the path ("" when the route has none).
  const std::string& path_id() const;
  // The first value of a query parameter; nullopt when absent.
  std::optional<std::string> Param(std::string_view name) const;
  bool HasParam(std::string_view name) const { return Param(name).has_value(); }
  // A header's value (names compare case-insensitively); empty when absent.
  std::string Header(std::string_view name) const;
};

struct Reply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

// An error reply: {"error": {"code", "message"}, "detail": message}.
Reply ErrorReply(int status, std::string_view code, std::string_view message);
// The error reply of a Status (the one mapping in errors.cc) with the status's message.
Reply StatusReply(const Status& s);

}  // namespace marketsync::http
