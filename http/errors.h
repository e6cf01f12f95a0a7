#pragma once

// The one place a Status becomes an HTTP status and an error code.

#include <string>
#include <string_view>

#include "base/status.h"

namespace marketsync::http {

struct HttpError {
  int status = 500;
  std::string code;  // stable, snake_case: "invalid_argument", "account_busy", ...
};

// What a status answers to, where one code means different things: a version conflict on a
// sync start is a busy account; any failure of a call made to eMAG for the caller (test
// connection) is a bad gateway, classed by why.
enum class Operation : uint8_t { kAny, kStartSync, kUpstreamCall };

// The one Status -> HTTP mapping.
HttpError ToHttpError(const Status& status, Operation operation = Operation::kAny);

// {"error": {"code": ..., "message": ...}, "detail": <message>}: `detail` is where the seed's
// page reads the message.
std::string ErrorBody(std::string_view code, std::string_view message);

}  // namespace marketsync::http
