#include "http/internal/request.h"

#include <algorithm>
#include <cctype>

#include "http/errors.h"

namespace marketsync::http {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

const std::string& Request::path_id() const {
  static const std::string kNone;
  return path_args.empty() ? kNone : path_args.front();
}

std::optional<std::string> Request::Param(std::string_view name) const {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return std::nullopt;
}

std::string Request::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return v;
  }
  return {};
}

Reply ErrorReply(int status, std::string_view code, std::string_view message) {
  return {status, ErrorBody(code, message), "application/json", {}};
}

Reply StatusReply(const Status& s) {
  const HttpError e = ToHttpError(s);
  return ErrorReply(e.status, e.code, s.message());
}

}  // namespace marketsync::http
