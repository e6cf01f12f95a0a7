#include "tools/emag-sim/faults.h"

#include <array>
#include <boost/json.hpp>

namespace marketsync::sim {
namespace {

namespace json = boost::json;

constexpr std::array<std::pair<FaultKind, std::string_view>, 14> kNames = {{
    {FaultKind::kHttp500, "http_500"}, {FaultKind::kHttp502, "http_502"},
    {FaultKind::kHttp504, "http_504"}, {FaultKind::kHttp408, "http_408"},
    {FaultKind::kHttp429, "http_429"}, {FaultKind::kHttp401, "http_401"},
    {FaultKind::kHttp403, "http_403"}, {FaultKind::kHttp400, "http_400"},
    {FaultKind::kSlow, "slow"},        {FaultKind::kReset, "reset"},
    {FaultKind::kTruncated, "truncated"}, {FaultKind::kMalformed, "malformed"},
    {FaultKind::kIsError, "is_error"}, {FaultKind::kInvalidIp, "invalid_ip"},
}};

Result<FaultRule> ParseRule(const json::value& v, size_t index) {
  const std::string where = "rule " + std::to_string(index);
  const auto* o = v.if_object();
  if (o == nullptr) return Status::InvalidArgument(where + " is not an object");
  FaultRule rule;
  for (const auto& [key, value] : *o) {
    if (key == "account" && value.is_string()) {
      rule.account = std::string(value.get_string());
    } else if (key == "resource" && value.is_string() && (value.get_string() == "read" || value.get_string() == "count")) {
      rule.resource = std::string(value.get_string());
    } else if (key == "page" && value.is_int64() && value.get_int64() >= 1) {
      rule.page = static_cast<uint32_t>(value.get_int64());
    } else if (key == "nth" && value.is_int64() && value.get_int64() >= 1) {
      rule.nth = static_cast<uint64_t>(value.get_int64());
    } else if (key == "probability" && value.is_number()) {
      rule.probability = value.to_number<double>();
      if (*rule.probability < 0 || *rule.probability > 1) return Status::InvalidArgument(where + ": probability must be 0..1");
    } else if (key == "fault" && value.is_string()) {
      auto kind = FaultKindFromName(value.get_string());
      if (!kind) return Status::InvalidArgument(where + ": unknown fault " + std::string(value.get_string()));
      rule.fault = *kind;
    } else if (key == "times" && value.is_int64() && value.get_int64() >= 0) {
      rule.times = static_cast<uint32_t>(value.get_int64());
    } else if (key == "message" && value.is_string()) {
      rule.message = std::string(value.get_string());
    } else if (key == "delay_ms" && value.is_int64() && value.get_int64() >= 0) {
      rule.delay_ms = static_cast<uint32_t>(value.get_int64());
    } else if (key == "retry_after" && value.is_int64() && value.get_int64() >= 0 && value.get_int64() <= 3600) {
      rule.retry_after_s = static_cast<uint32_t>(value.get_int64());
    } else {
      return Status::InvalidArgument(where + ": bad field " + std::string(key));
    }
  }
  if (o->find("fault") == o->end()) return Status::InvalidArgument(where + " has no fault");
  return rule;
}

}  // namespace

std::optional<FaultKind> FaultKindFromName(std::string_view name) {
  for (const auto& [kind, n] : kNames) {
    if (n == name) return kind;
  }
  return std::nullopt;
}

std::string_view FaultKindName(FaultKind kind) {
  for (const auto& [k, n] : kNames) {
    if (k == kind) return n;
  }
  return "unknown";
}

Status FaultScript::Load(std::string_view json_text) {
  boost::system::error_code ec;
  json::value v = json::parse(json_text, ec);
  if (ec) return Status::InvalidArgument("fault script is not JSON: " + ec.message());
  const json::value* rules = nullptr;
  if (v.is_object() && v.get_object().contains("rules")) rules = &v.get_object().at("rules");
  if (v.is_array()) rules = &v;
  if (rules == nullptr || !rules->is_array()) return Status::InvalidArgument("fault script needs a \"rules\" list");
  std::vector<FaultRule> parsed;
  size_t i = 0;
  for (const auto& r : rules->get_array()) {
    MS_ASSIGN_OR_RETURN(FaultRule rule, ParseRule(r, i++));
    parsed.push_back(std::move(rule));
  }
  std::lock_guard lk(mu_);
  rules_ = std::move(parsed);
  return Status::Ok();
}

void FaultScript::Clear() {
  std::lock_guard lk(mu_);
  rules_.clear();
}

std::optional<FaultRule> FaultScript::Match(const RequestFacts& facts) {
  std::lock_guard lk(mu_);
  for (auto& rule : rules_) {
    if (rule.times && rule.fired >= *rule.times) continue;
    if (rule.account && *rule.account != facts.account) continue;
    if (rule.resource && *rule.resource != facts.resource) continue;
    if (rule.page && *rule.page != facts.page) continue;
    if (rule.nth && *rule.nth != facts.nth) continue;
    if (rule.probability) {
      rng_state_ += 0x9E3779B97F4A7C15ull;
      uint64_t x = rng_state_;
      x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
      x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
      x ^= x >> 31;
      if (static_cast<double>(x >> 11) / 9007199254740992.0 >= *rule.probability) continue;
    }
    ++rule.fired;
    return rule;
  }
  return std::nullopt;
}

std::string FaultScript::ToJson() const {
  std::lock_guard lk(mu_);
  json::array rules;
  for (const auto& r : rules_) {
    json::object o;
    if (r.account) o["account"] = *r.account;
    if (r.resource) o["resource"] = *r.resource;
    if (r.page) o["page"] = *r.page;
    if (r.nth) o["nth"] = *r.nth;
    if (r.probability) o["probability"] = *r.probability;
    o["fault"] = FaultKindName(r.fault);
    if (r.times) o["times"] = *r.times;
    if (!r.message.empty()) o["message"] = r.message;
    if (r.fault == FaultKind::kHttp429) o["retry_after"] = r.retry_after_s;
    o["fired"] = r.fired;
    rules.push_back(std::move(o));
  }
  return json::serialize(json::object{{"rules", std::move(rules)}});
}

}  // namespace marketsync::sim
