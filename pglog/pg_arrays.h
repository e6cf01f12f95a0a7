#pragma once

// PostgreSQL array literals, for statements that take a whole batch of rows in one parameter
// each (`SELECT … FROM unnest($1::text[], $2::bytea[])`): one statement, one round trip, for
// any number of rows. Binary-safe: quotes, backslashes and braces are escaped, bytea is hex.

#include <cstdint>
#include <string>
#include <vector>

namespace marketsync::pglog {

std::string TextArray(const std::vector<std::string>& items);
std::string ByteaArray(const std::vector<std::string>& items);
std::string IntArray(const std::vector<uint64_t>& items);

}  // namespace marketsync::pglog
