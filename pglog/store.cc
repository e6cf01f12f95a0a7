#include "pglog/store.h"

#include <libpq-fe.h>

#include "pglog/pg_event_log.h"

namespace marketsync::pglog {

bool IsPostgresStore(const std::string& store) {
  return store.starts_with("postgres://") || store.starts_with("postgresql://") ||
         store.find('=') != std::string::npos;  // key=value: a directory name has no '=' in practice
}

Result<std::unique_ptr<EventLog>> OpenStore(const std::string& store, EventLogOptions options) {
  if (IsPostgresStore(store)) return OpenPgEventLog(store, std::move(options));
  return EventLog::Open(store, std::move(options));
}

std::string DescribeStore(const std::string& store) {
  if (!IsPostgresStore(store)) return store;
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(store.c_str(), &error);
  if (options == nullptr) {
    PQfreemem(error);  // its text may quote the string, password and all
    return "PostgreSQL (a connection string libpq cannot parse)";
  }
  std::string out = "PostgreSQL";
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    const std::string key = o->keyword;
    if (o->val == nullptr || *o->val == '\0') continue;
    if (key == "host" || key == "hostaddr" || key == "port" || key == "dbname" || key == "user" ||
        key == "target_session_attrs") {
      out += " " + key + "=" + o->val;
    }
  }
  PQconninfoFree(options);
  return out;
}

}  // namespace marketsync::pglog
