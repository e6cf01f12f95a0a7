#pragma once

// The marketsync commands that check or move a whole log: rebuild, verify, export, import.
// Each works on a RocksDB directory or a PostgreSQL connection string (cli.h's OpenFor*), so an
// export from one backend imports into the other with the same chain (docs/DISTRIBUTED.md,
// "Moving a log between backends").

#include <string>

#include "tools/marketsync/cli.h"

namespace marketsync::cli {

// Drops projection `which` ("all" for every one) and refolds it from the whole log.
Exit Rebuild(const std::string& db, const std::string& which);

// Checks the chain and every projection; prints findings; kExitDamaged when something is wrong.
Exit Verify(const std::string& db);

// Writes every event with its stored bytes as NDJSON to `to` (through `to`.partial).
Exit Export(const std::string& db, const std::string& to);

// Loads an export into `db`, which must hold no events yet, then verifies it.
Exit Import(const std::string& db, const std::string& from);

}  // namespace marketsync::cli
