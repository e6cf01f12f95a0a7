#include "http/internal/accounts.h"

#include <boost/json.hpp>

#include "engine/sync_engine.h"
#include "events/event_log.h"
#include "projections/accounts.h"
#include "http/internal/json_reply.h"
#include "http/internal/params.h"

namespace marketsync::http {
namespace {

namespace json = boost::json;

// Who a command came from, for the account's history.
constexpr char kBy[] = "api";

Reply AccountReply(int status, const AccountRecord& a) {
  return JsonReply(status, json::object{{"status", "success"}, {"data", AccountJson(a)}});
}

}  // namespace

// Reads come from the accounts projection (one scan or one row), folded in the same write as
// every account command; the engine folds the streams only for its own commands.
Reply AccountHandlers::List(const Request&) {
  auto accounts = ListAccounts(ctx_.log);
  if (!accounts.ok()) return StatusReply(accounts.status());
  json::array out;
  for (const auto& a : *accounts) out.push_back(AccountJson(a));
  return JsonReply(200, json::object{{"status", "success"}, {"data", std::move(out)}});
}

Reply AccountHandlers::Get(const Request& req) {
  auto account = FindAccount(ctx_.log, req.path_id());
  if (!account.ok()) return StatusReply(account.status());
  if (!*account) return ErrorReply(404, "not_found", "no account " + req.path_id());
  return AccountReply(200, **account);
}

Reply AccountHandlers::Add(const Request& req) {
  if (ctx_.draining) return ErrorReply(503, "draining", "the server is shutting down");
  auto spec = ParseAccountBody(req.body, true);
  if (!spec.ok()) return StatusReply(spec.status());
  auto added = ctx_.engine.AddAccount(*spec, kBy);
  if (!added.ok()) return StatusReply(added.status());
  return AccountReply(201, *added);
}

Reply AccountHandlers::Change(const Request& req) {
  if (ctx_.draining) return ErrorReply(503, "draining", "the server is shutting down");
  auto spec = ParseAccountBody(req.body, false);
  if (!spec.ok()) return StatusReply(spec.status());
  spec->name = req.path_id();
  auto changed = ctx_.engine.ChangeAccount(*spec, kBy);
  if (!changed.ok()) return StatusReply(changed.status());
  return AccountReply(200, *changed);
}

Reply AccountHandlers::Remove(const Request& req) {
  if (ctx_.draining) return ErrorReply(503, "draining", "the server is shutting down");
  auto purge = Param(req, "purge");
  if (!purge.ok()) return StatusReply(purge.status());
  const std::string p = purge->value_or("false");
  if (p != "true" && p != "false") return ErrorReply(400, "invalid_argument", "purge must be true or false");
  auto removed = ctx_.engine.RemoveAccount(req.path_id(), p == "true", kBy);
  if (!removed.ok()) return StatusReply(removed.status());
  return AccountReply(200, *removed);
}

}  // namespace marketsync::http
