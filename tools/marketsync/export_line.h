#pragma once

// One line of `marketsync export` (NDJSON): an event rendered for people, with its stored bytes
// in "raw" (base64). `import` reads only "raw"; this is where a line becomes those bytes.

#include <string>
#include <string_view>

#include "base/status.h"

namespace marketsync {

// The stored envelope bytes a line carries. Errors: kInvalidArgument "not an exported event (no
// \"raw\")" for a line that is not a JSON object with a string "raw", "\"raw\" is not base64".
Result<std::string> StoredBytesOfExportLine(std::string_view line);

}  // namespace marketsync
