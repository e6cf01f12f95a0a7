#include "http/errors.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace marketsync::http {

HttpError ToHttpError(const Status& s, Operation operation) {
  if (operation == Operation::kStartSync && s.code() == Status::Code::kFailedPrecondition) return {409, "account_busy"};
  if (operation == Operation::kUpstreamCall && !s.ok()) {
    if (s.code() == Status::Code::kPermissionDenied) return {502, "upstream_permission_denied"};
    if (s.code() == Status::Code::kUnavailable || s.code() == Status::Code::kDeadlineExceeded) {
      return {502, "upstream_unavailable"};
    }
    return {502, "upstream_error"};
  }
  switch (s.code()) {
    case Status::Code::kOk: return {200, "ok"};
    case Status::Code::kInvalidArgument: return {400, "invalid_argument"};
    case Status::Code::kNotFound: return {404, "not_found"};
    case Status::Code::kFailedPrecondition: return {409, "conflict"};
    case Status::Code::kPermissionDenied: return {403, "permission_denied"};
    case Status::Code::kUnavailable: return {503, "unavailable"};
    case Status::Code::kDeadlineExceeded: return {504, "deadline_exceeded"};
    case Status::Code::kCancelled: return {409, "cancelled"};
    case Status::Code::kCorruption: return {500, "corruption"};
    case Status::Code::kIOError: return {500, "io_error"};
    default: return {500, "internal"};
  }
}

std::string ErrorBody(std::string_view code, std::string_view message) {
  boost::json::object o;
  o["error"] = boost::json::object{{"code", code}, {"message", message}};
  o["detail"] = message;
  return boost::json::serialize(o);
}

}  // namespace marketsync::http
