#include "tools/marketsync/export_line.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "base/base64.h"

namespace marketsync {

Result<std::string> StoredBytesOfExportLine(std::string_view line) {
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(line, ec);
  const boost::json::string* raw = nullptr;
  if (!ec && v.is_object()) {
    if (const auto* r = v.as_object().if_contains("raw"); r != nullptr && r->is_string()) raw = &r->as_string();
  }
  if (raw == nullptr) return Status::InvalidArgument("not an exported event (no \"raw\")");
  std::optional<std::string> bytes = Base64Decode(std::string_view(raw->data(), raw->size()));
  if (!bytes) return Status::InvalidArgument("\"raw\" is not base64");
  return std::move(*bytes);
}

}  // namespace marketsync
