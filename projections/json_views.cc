#include "projections/json_views.h"

#include <algorithm>
#include <cmath>
#include <iterator>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <ctime>

#include "schema/event_type.h"
#include "schema/visit_json.h"

namespace marketsync {
namespace {

boost::json::value TimeOrNull(int64_t us) {
  if (us == 0) return nullptr;
  return boost::json::string(FormatTimeUs(us));
}

boost::json::value PriceOrNull(const std::string& price) {
  if (price.empty()) return nullptr;
  return std::strtod(price.c_str(), nullptr);
}

bool ParseInt(std::string_view s, int& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

namespace {

// Money (a key ending in "price"): up to four decimals, as eMAG sends prices ("42.0168"), with
// trailing zeros dropped down to two ("42.50").
void RenderMoney(double d, std::string& out) {
  std::string text = fmt::format("{:.4f}", d);
  while (text.size() > 3 && text.back() == '0' && text[text.size() - 3] != '.') text.pop_back();
  out += text;
}

void RenderInto(const boost::json::value& v, std::string& out, std::string_view key = {}) {
  switch (v.kind()) {
    case boost::json::kind::double_: {
      const double d = v.get_double();
      if (std::isfinite(d) && key.ends_with("price")) {
        RenderMoney(d, out);
      } else if (std::isfinite(d)) {
        fmt::format_to(std::back_inserter(out), "{:.3f}", d);
      } else {
        out += "null";
      }
      return;
    }
    case boost::json::kind::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& [name, member] : v.get_object()) {
        if (!first) out.push_back(',');
        first = false;
        out += boost::json::serialize(boost::json::string_view(name));
        out.push_back(':');
        RenderInto(member, out, std::string_view(name.data(), name.size()));
      }
      out.push_back('}');
      return;
    }
    case boost::json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& item : v.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        RenderInto(item, out);
      }
      out.push_back(']');
      return;
    }
    default:
      out += boost::json::serialize(v);
  }
}

}  // namespace

std::string RenderJson(const boost::json::value& value) {
  std::string out;
  RenderInto(value, out);
  return out;
}

std::string FormatTimeUs(int64_t us) {
  if (us == 0) return "";
  const std::time_t secs = static_cast<std::time_t>(us / 1'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", tm, static_cast<int>((us % 1'000'000) / 1000));
}

std::optional<int64_t> ParseTimeUs(std::string_view t) {
  int y, mo, d, h = 0, mi = 0, s = 0;
  if (t.size() < 10 || t[4] != '-' || t[7] != '-') return std::nullopt;
  if (!ParseInt(t.substr(0, 4), y) || !ParseInt(t.substr(5, 2), mo) || !ParseInt(t.substr(8, 2), d)) return std::nullopt;
  int64_t frac_us = 0;
  if (t.size() > 10) {
    if ((t[10] != 'T' && t[10] != ' ') || t.size() < 19 || t[13] != ':' || t[16] != ':') return std::nullopt;
    if (!ParseInt(t.substr(11, 2), h) || !ParseInt(t.substr(14, 2), mi) || !ParseInt(t.substr(17, 2), s)) return std::nullopt;
    std::string_view rest = t.substr(19);
    if (!rest.empty() && rest.front() == '.') {
      rest.remove_prefix(1);
      int64_t scale = 100'000;
      while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') {
        frac_us += (rest.front() - '0') * scale;
        scale /= 10;
        rest.remove_prefix(1);
      }
    }
    if (rest != "Z" && !rest.empty() && rest != "+00:00") return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  const std::time_t secs = timegm(&tm);
  return static_cast<int64_t>(secs) * 1'000'000 + frac_us;
}

std::optional<FoldLimit> ParseAsOf(std::string_view text) {
  uint64_t seq = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seq);
  if (!text.empty() && ec == std::errc() && end == text.data() + text.size()) return FoldLimit{seq, std::nullopt};
  if (std::optional<int64_t> t = ParseTimeUs(text)) return FoldLimit{std::nullopt, *t};
  return std::nullopt;
}

boost::json::object RunJson(const RunRecord& r, int64_t now_us) {
  boost::json::object o;
  o["id"] = r.id;
  o["group_id"] = r.group_id;
  o["account_type"] = r.account_type;
  o["operation"] = r.operation;
  o["mode"] = r.mode;
  o["status"] = r.status;
  // Requested, not yet started: waiting for a worker (at most max_runs_in_flight run at once).
  o["queued"] = !r.terminal() && r.started_at_us == 0;
  o["requested_at"] = TimeOrNull(r.requested_at_us);
  o["started_at"] = TimeOrNull(r.started_at_us != 0 ? r.started_at_us : r.requested_at_us);
  o["completed_at"] = TimeOrNull(r.completed_at_us);
  o["duration_seconds"] = r.DurationSeconds(now_us);
  o["total_items"] = r.total_items;
  o["processed_items"] = r.processed_items;
  o["created_items"] = r.created_items;
  o["updated_items"] = r.updated_items;
  o["unchanged_items"] = r.unchanged_items;
  o["removed_items"] = r.removed_items;
  o["failed_items"] = r.failed_items;
  o["duplicate_items"] = r.duplicate_items;
  o["pages_total"] = r.pages_total;
  o["pages_processed"] = r.pages_processed;
  o["pages_failed"] = JsonOf(r.pages_failed);
  o["current_page"] = r.last_page;
  o["api_requests_made"] = r.api_requests_made;
  o["rate_limit_hits"] = r.rate_limit_hits;
  o["retries"] = r.retries;
  o["attempt"] = r.attempt;
  boost::json::array errors;
  for (const auto& e : r.errors) {
    boost::json::object eo;
    eo["at"] = TimeOrNull(e.at_us);
    eo["page"] = e.page == 0 ? boost::json::value(nullptr) : boost::json::value(e.page);
    eo["message"] = e.message;
    errors.push_back(std::move(eo));
  }
  o["errors"] = std::move(errors);
  o["errors_total"] = r.errors_total;
  o["triggered_by"] = r.triggered_by;
  o["sync_params"] = JsonObjectOf(r.params);
  o["cancel_requested"] = r.cancel_requested;
  o["error_class"] = r.error_class.empty() ? boost::json::value(nullptr) : boost::json::value(r.error_class);
  o["error_message"] = r.error_message.empty() ? boost::json::value(nullptr) : boost::json::value(r.error_message);
  o["interrupted_reason"] = r.interrupted_reason.empty() ? boost::json::value(nullptr) : boost::json::value(r.interrupted_reason);
  o["total_items_at_end"] = r.total_items_at_end;
  o["count_changed"] = r.count_changed;
  o["duplicate_part_numbers"] = JsonOf(r.duplicate_part_numbers);
  o["first_seq"] = r.first_seq;
  o["last_seq"] = r.last_seq;
  return o;
}

Result<boost::json::object> EventJson(const Envelope& e) {
  boost::json::object o;
  o["seq"] = e.seq;
  o["type"] = EventTypeName(e.type);
  o["stream_id"] = e.stream_id;
  o["stream_version"] = e.stream_version;
  o["recorded_at"] = FormatTimeUs(e.recorded_at_us);
  o["recorded_at_us"] = e.recorded_at_us;
  o["correlation_id"] = e.correlation_id;
  o["payload_version"] = e.payload_version;
  const EventTypeInfo* info = FindEventType(e.type);
  if (info == nullptr) return Status::Corruption(fmt::format("seq {}: unknown event type {}", e.seq, e.type));
  MS_ASSIGN_OR_RETURN(std::string payload, info->payload_to_json(e.payload_version, e.payload));
  o["payload"] = boost::json::parse(payload);
  o["hash"] = HashToHex(e.hash);
  o["prev_hash"] = HashToHex(e.prev_hash);
  return o;
}

boost::json::object CatalogEntryJson(const CatalogEntry& c) {
  boost::json::object o;
  o["id"] = fmt::format("{}-{}", c.account, c.offer_id);
  o["emag_id"] = c.offer_id;
  o["sku"] = c.summary.part_number;
  o["name"] = c.summary.name;
  o["account_type"] = c.account;
  o["price"] = PriceOrNull(c.summary.sale_price);
  o["currency"] = c.summary.currency;
  o["stock_quantity"] = c.summary.stock;
  o["is_active"] = c.summary.status == 1;
  o["status"] = c.summary.status;
  o["sync_status"] = c.last_change;
  o["last_change_seq"] = c.last_seq;
  o["last_run_id"] = c.last_run_id;
  o["content_hash"] = c.content_hash;
  o["created_at"] = TimeOrNull(c.created_at_us);
  o["updated_at"] = TimeOrNull(c.updated_at_us);
  return o;
}

namespace {

boost::json::object OfferChangeJson(const OfferChange& c) {
  boost::json::object o;
  o["seq"] = c.seq;
  o["recorded_at"] = TimeOrNull(c.recorded_at_us);
  o["run_id"] = c.run_id;
  o["change"] = c.kind;
  o["changed_fields"] = JsonOf(c.changed_fields);
  boost::json::array diff;
  for (const FieldChange& f : c.changes) diff.push_back(boost::json::object{{"field", f.field}, {"old", f.old_value}, {"new", f.new_value}});
  o["diff"] = std::move(diff);
  o["sku"] = c.summary.part_number;
  o["name"] = c.summary.name;
  o["price"] = PriceOrNull(c.summary.sale_price);
  o["currency"] = c.summary.currency;
  o["stock_quantity"] = c.summary.stock;
  o["status"] = c.summary.status;
  return o;
}

}  // namespace

boost::json::object OfferHistoryJson(const OfferHistory& h) {
  boost::json::object o;
  o["account_type"] = h.account;
  o["offer_id"] = h.offer_id;
  o["removed"] = h.removed;
  o["raw_json"] = h.raw_json;  // exactly as eMAG sent it (a string, as in the product events)
  boost::json::array changes;
  for (const OfferChange& c : h.changes) changes.push_back(OfferChangeJson(c));
  o["changes"] = std::move(changes);
  return o;
}

namespace {

// A run as a chart point.
boost::json::object RunPointJson(const RunRecord& r, int64_t now_us) {
  return {{"id", r.id},
          {"account_type", r.account_type},
          {"status", r.status},
          {"requested_at", TimeOrNull(r.requested_at_us)},
          {"started_at", TimeOrNull(r.started_at_us != 0 ? r.started_at_us : r.requested_at_us)},
          {"duration_seconds", r.DurationSeconds(now_us)},
          {"created_items", r.created_items},
          {"updated_items", r.updated_items},
          {"unchanged_items", r.unchanged_items},
          {"removed_items", r.removed_items},
          {"failed_items", r.failed_items}};
}

}  // namespace

boost::json::object OverviewJson(const Overview& o, int64_t now_us) {
  boost::json::array accounts;
  for (const AccountOverview& a : o.accounts) {
    boost::json::object j = AccountStatsJson(a.stats);
    j["account_type"] = a.stats.account;
    j["health"] = a.health_word;
    j["failing_since"] = TimeOrNull(a.health.failing_since_us);
    j["failing_runs"] = a.health.failing_runs;
    j["in_flight"] = a.in_flight ? boost::json::value(ActiveRunJson(*a.in_flight, now_us)) : boost::json::value(nullptr);
    accounts.push_back(std::move(j));
  }
  boost::json::array days;
  for (const DayPoint& d : o.days) {
    boost::json::object j = JsonObjectOf(d.runs);
    j["date"] = d.day;
    j["unfinished"] = d.runs.requested - std::min(d.runs.requested, d.runs.finished());
    days.push_back(std::move(j));
  }
  boost::json::array runs;
  for (const RunRecord& r : o.runs) runs.push_back(RunPointJson(r, now_us));
  return {{"now", TimeOrNull(now_us)},
          {"window_start", TimeOrNull(o.window_start_us)},
          {"accounts", std::move(accounts)},
          {"days", std::move(days)},
          {"runs", std::move(runs)},
          {"runs_truncated", o.runs_truncated}};
}

boost::json::object AccountJson(const AccountRecord& a) {
  boost::json::object o{{"name", a.name}};
  for (auto& [key, value] : JsonObjectOf(a.settings)) o[key] = value;
  o["credentials"] = a.removed ? "forgotten" : a.settings.source == "api" ? "stored sealed" : "held in memory";
  if (a.settings.key_id.empty()) o.erase("key_id");
  o["removed"] = a.removed;
  o["mirror_purged"] = a.mirror_purged;
  o["added_at"] = TimeOrNull(a.added_at_us);
  o["changed_at"] = TimeOrNull(a.changed_at_us);
  o["changed_by"] = a.changed_by;
  o["version"] = a.version;
  return o;
}

boost::json::object AccountStatsJson(const AccountStats& s) {
  boost::json::object o = JsonObjectOf(s);
  o.erase("last_success_at_us");
  o.erase("last_run_at_us");
  o["last_success_at"] = TimeOrNull(s.last_success_at_us);
  o["last_run_at"] = TimeOrNull(s.last_run_at_us);
  o["success_rate"] = s.SuccessRate();
  return o;
}

boost::json::object ActiveRunJson(const ActiveRun& a, int64_t now_us) {
  boost::json::object o = RunJson(a.record, now_us);
  o["current_page"] = a.current_page;
  o["total_pages"] = a.record.pages_total;
  o["items_per_second"] = a.items_per_second;
  o["eta_seconds"] = a.eta_seconds ? boost::json::value(*a.eta_seconds) : boost::json::value(nullptr);
  return o;
}

}  // namespace marketsync
