#pragma once

// The JSON shapes of events and read-model rows, shared by the HTTP API and the CLI so both say
// the same thing the same way. Times are ISO-8601 UTC strings ("2026-11-28T18:23:53.218Z").
// Include only in .cc files that render JSON (it brings in Boost.JSON's value types).

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "events/envelope.h"
#include "events/projection_fold.h"
#include "base/status.h"
#include "projections/accounts.h"
#include "projections/catalog.h"
#include "projections/offer_history.h"
#include "projections/overview.h"
#include "projections/run_record.h"
#include "projections/stats.h"
#include "projections/status.h"

namespace marketsync {

// JSON text of a value, as every answer of the API, SSE and the CLI prints it: Boost.JSON's,
// but numbers with a fraction (durations, rates, ratios) as fixed decimals with three digits
// ("1.030", not "1.030328E0"), money (keys ending in "price") with up to four as eMAG sends it
// ("2228.1233", "12.50"); a NaN or infinity as null.
std::string RenderJson(const boost::json::value& value);

// "2026-11-28T18:23:53.218Z" (milliseconds); "" for 0.
std::string FormatTimeUs(int64_t us);
// Accepts "2026-11-28T18:23:53Z", with optional fraction, or "2026-11-28" (midnight UTC).
std::optional<int64_t> ParseTimeUs(std::string_view text);
// An "as of" point as people write it: a seq (digits) or a UTC time as ParseTimeUs takes it;
// nullopt for anything else. The API's `as_of` and the CLI's `--as-of` both read it so.
std::optional<FoldLimit> ParseAsOf(std::string_view text);

// A run as the history and status routes show it (the seed's fields and the rest).
boost::json::object RunJson(const RunRecord& run, int64_t now_us);
// An event with its payload rendered. Errors: kCorruption (a payload that does not decode).
Result<boost::json::object> EventJson(const Envelope& event);
// An offer of the catalog, as the products route shows it.
boost::json::object CatalogEntryJson(const CatalogEntry& entry);
boost::json::object AccountStatsJson(const AccountStats& stats);
// An account as the accounts routes and the CLI show it: its settings, where they came from, and
// when and by whom it was added, changed and removed. Never its credentials.
boost::json::object AccountJson(const AccountRecord& account);
// The overview: accounts (stats, health, run in flight), runs per day, and the window's runs
// in the short form the charts take.
boost::json::object OverviewJson(const Overview& overview, int64_t now_us);
// An offer's history: the offer as eMAG last sent it (`raw_json`, the text itself) and each
// change, oldest first.
boost::json::object OfferHistoryJson(const OfferHistory& history);
// A run in flight: the run plus current_page, total_pages, items_per_second, eta_seconds.
boost::json::object ActiveRunJson(const ActiveRun& run, int64_t now_us);

}  // namespace marketsync
