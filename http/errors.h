#pragma once

// The one place a Status becomes an HTTP status and an error code.

#include <string>
#include <string_view>

#include "events/status.h"

namespace marketsync::http {

struct HttpError {
  int status = 500;
  std::string code;  // stable, snake_case: "invalid_argument", "account_busy", ...
};

HttpError ToHttpError(const Status& status);

// {"error": {"code": ..., "message": ...}, "detail": <message>}: `detail` is where the seed's
// page reads the message.
std::string ErrorBody(std::string_view code, std::string_view message);

}  // namespace marketsync::http
