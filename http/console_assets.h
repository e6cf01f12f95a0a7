#pragma once

// The web console's files (http/console/ and Chart.js), embedded at build time by
// embed_console.cmake.

#include <span>
#include <string_view>

namespace marketsync::http {

struct ConsoleAsset {
  std::string_view path;          // "/index.html", "/app.js", "/vendor/chart.min.js", ...
  std::string_view content_type;
  std::string_view body;
};

std::span<const ConsoleAsset> ConsoleAssets();

}  // namespace marketsync::http
