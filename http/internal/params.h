#pragma once

// Request validation: query parameters and the sync body, checked for shape and returned as
// values or a kInvalidArgument naming the parameter and what it must be. The engine checks what
// a sync request means (accounts, ranges); this only checks that the JSON has the right shape.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "engine/sync_engine.h"
#include "events/projection_fold.h"
#include "http/internal/request.h"

namespace marketsync::http {

// A parameter's value (at most 200 bytes); nullopt when absent.
Result<std::optional<std::string>> Param(const Request& req, std::string_view name);
// A whole number in min..max; `fallback` when absent.
Result<uint64_t> UintParam(const Request& req, std::string_view name, uint64_t fallback, uint64_t min, uint64_t max);
// The {offer_id} segment of the path at `index`: decimal digits.
Result<uint64_t> OfferIdSegment(const Request& req, size_t index);
// A UTC time like 2026-11-28T18:00:00Z; nullopt when absent or empty.
Result<std::optional<int64_t>> TimeParam(const Request& req, std::string_view name);
// "as_of": a seq (digits) or a UTC time; nullopt when absent or empty.
Result<std::optional<FoldLimit>> AsOfParam(const Request& req);

// "application/json", with or without parameters ("; charset=utf-8"), any case.
bool IsJsonMediaType(std::string_view type);

// The seed's sync request, strictly: unknown fields and wrong types are refused.
struct SyncBody {
  StartSyncRequest request;
  bool run_async = true;
};
// Defaults: account_type "both", triggered_by "api". Errors: kInvalidArgument.
Result<SyncBody> ParseSyncBody(std::string_view body);

// An account body (POST /api/v1/accounts: name, username, password, and optionally base_url,
// enabled, schedule_minutes; PATCH /api/v1/accounts/{name}: any of them but the name, the
// username and password together). Unknown fields and wrong types are refused; the values of
// username and password are never repeated in an error. Errors: kInvalidArgument.
Result<AccountSpec> ParseAccountBody(std::string_view body, bool adding);

}  // namespace marketsync::http
