#include "http/internal/params.h"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cctype>
#include <charconv>

#include "projections/json_views.h"

namespace marketsync::http {
namespace {

namespace json = boost::json;

Status Bad(std::string message) { return Status::InvalidArgument(std::move(message)); }

// Decimal digits and nothing else, within uint64.
std::optional<uint64_t> ParseDecimal(std::string_view text) {
  uint64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return n;
}

Result<std::string> StringField(const json::value& f, std::string_view name) {
  if (!f.is_string()) return Bad(fmt::format("{} must be a string", name));
  return std::string(f.as_string());
}

Result<bool> BoolField(const json::value& f, std::string_view name) {
  if (!f.is_bool()) return Bad(fmt::format("{} must be true or false", name));
  return f.as_bool();
}

// Any whole number; one past int64's range is clamped (the engine refuses it as out of range).
Result<int64_t> IntField(const json::value& f, std::string_view name) {
  if (f.is_int64()) return f.as_int64();
  if (f.is_uint64()) return f.as_uint64() > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(f.as_uint64());
  return Bad(fmt::format("{} must be a whole number", name));
}

Status SetField(SyncBody& out, std::string_view key, const json::value& f) {
  StartSyncRequest& r = out.request;
  if (key == "account_type") {
    MS_ASSIGN_OR_RETURN(r.account_type, StringField(f, key));
  } else if (key == "mode") {
    MS_ASSIGN_OR_RETURN(r.mode, StringField(f, key));
  } else if (key == "max_pages") {
    if (f.is_null()) {
      r.max_pages.reset();
    } else {
      MS_ASSIGN_OR_RETURN(r.max_pages, IntField(f, key));
    }
  } else if (key == "items_per_page") {
    MS_ASSIGN_OR_RETURN(r.items_per_page, IntField(f, key));
  } else if (key == "include_inactive") {
    MS_ASSIGN_OR_RETURN(r.include_inactive, BoolField(f, key));
  } else if (key == "conflict_strategy") {
    MS_ASSIGN_OR_RETURN(r.conflict_strategy, StringField(f, key));
  } else if (key == "run_async") {
    MS_ASSIGN_OR_RETURN(out.run_async, BoolField(f, key));
  } else if (key == "triggered_by") {
    MS_ASSIGN_OR_RETURN(r.triggered_by, StringField(f, key));
  } else {
    return Bad(fmt::format("unknown field \"{}\" (accepted: account_type, mode, max_pages, items_per_page, "
                           "include_inactive, conflict_strategy, run_async, triggered_by)",
                           key));
  }
  return Status::Ok();
}

}  // namespace

Result<std::optional<std::string>> Param(const Request& req, std::string_view name) {
  std::optional<std::string> v = req.Param(name);
  if (v && v->size() > 200) return Bad(fmt::format("{} is longer than 200 bytes", name));
  return v;
}

Result<uint64_t> UintParam(const Request& req, std::string_view name, uint64_t fallback, uint64_t min, uint64_t max) {
  MS_ASSIGN_OR_RETURN(std::optional<std::string> v, Param(req, name));
  if (!v) return fallback;
  std::optional<uint64_t> n = ParseDecimal(*v);
  if (!n || *n < min || *n > max) {
    return Bad(fmt::format("{} must be a whole number in {}..{}, not \"{}\"", name, min, max, *v));
  }
  return *n;
}

Result<uint64_t> OfferIdSegment(const Request& req, size_t index) {
  const std::string& segment = req.path_args.at(index);
  std::optional<uint64_t> id = ParseDecimal(segment);
  if (!id) return Bad("offer_id must be an eMAG offer id (decimal digits), not " + segment);
  return *id;
}

Result<std::optional<int64_t>> TimeParam(const Request& req, std::string_view name) {
  MS_ASSIGN_OR_RETURN(std::optional<std::string> v, Param(req, name));
  if (!v || v->empty()) return std::optional<int64_t>();
  std::optional<int64_t> t = ParseTimeUs(*v);
  if (!t) return Bad(fmt::format("{} must be a UTC time like 2026-11-28T18:00:00Z, not \"{}\"", name, *v));
  return t;
}

Result<std::optional<FoldLimit>> AsOfParam(const Request& req) {
  MS_ASSIGN_OR_RETURN(std::optional<std::string> v, Param(req, "as_of"));
  if (!v || v->empty()) return std::optional<FoldLimit>();
  std::optional<FoldLimit> limit = ParseAsOf(*v);
  if (!limit) return Bad("as_of must be a seq (a number) or a UTC time like 2026-11-28T18:00:00Z, not \"" + *v + "\"");
  return limit;
}

bool IsJsonMediaType(std::string_view type) {
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  constexpr std::string_view kWant = "application/json";
  if (type.size() != kWant.size()) return false;
  for (size_t i = 0; i < type.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(type[i])) != kWant[i]) return false;
  }
  return true;
}

Result<SyncBody> ParseSyncBody(std::string_view body) {
  SyncBody out;
  out.request.account_type = "both";
  out.request.triggered_by = "api";
  if (body.empty()) return Bad("the body must be a JSON object (at least {\"account_type\": \"main\"})");
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return Bad("the body is not valid JSON: " + ec.message());
  if (!v.is_object()) return Bad("the body must be a JSON object");
  for (const auto& [key, f] : v.as_object()) MS_RETURN_IF_ERROR(SetField(out, std::string_view(key), f));
  return out;
}

Result<AccountSpec> ParseAccountBody(std::string_view body, bool adding) {
  AccountSpec spec;
  if (body.empty()) return Bad("the body must be a JSON object");
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return Bad("the body is not valid JSON: " + ec.message());
  if (!v.is_object()) return Bad("the body must be a JSON object");
  std::optional<std::string> username, password;
  for (const auto& [key, f] : v.as_object()) {
    if (key == "name" && adding) {
      MS_ASSIGN_OR_RETURN(spec.name, StringField(f, "name"));
    } else if (key == "username") {
      MS_ASSIGN_OR_RETURN(username, StringField(f, "username"));
    } else if (key == "password") {
      MS_ASSIGN_OR_RETURN(password, StringField(f, "password"));
    } else if (key == "base_url") {
      MS_ASSIGN_OR_RETURN(spec.base_url, StringField(f, "base_url"));
    } else if (key == "enabled") {
      MS_ASSIGN_OR_RETURN(spec.enabled, BoolField(f, "enabled"));
    } else if (key == "schedule_minutes") {
      MS_ASSIGN_OR_RETURN(int64_t minutes, IntField(f, "schedule_minutes"));
      if (minutes < 0 || minutes > UINT32_MAX) return Bad("schedule_minutes must be 0 (the server's schedule) up to 10080");
      spec.schedule_minutes = static_cast<uint32_t>(minutes);
    } else {
      return Bad(fmt::format("unknown field \"{}\": an account takes {}username, password, base_url, enabled and "
                             "schedule_minutes", std::string_view(key), adding ? "name, " : ""));
    }
  }
  if (adding && spec.name.empty()) return Bad("name is required");
  if (username.has_value() != password.has_value()) return Bad("username and password go together: give both");
  if (username) spec.credentials = Credentials{std::move(*username), std::move(*password)};
  return spec;
}

}  // namespace marketsync::http
