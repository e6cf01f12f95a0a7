#pragma once

// The web console's files (http/console/), embedded at build time by embed_console.cmake.

#include <span>
#include <string_view>

namespace marketsync::http {

struct ConsoleAsset {
  std::string_view path;          // "/index.html", "/app.js", "/style.css"
  std::string_view content_type;
  std::string_view body;
};

std::span<const ConsoleAsset> ConsoleAssets();

}  // namespace marketsync::http
