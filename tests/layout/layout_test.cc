// The layout rules of docs/ARCHITECTURE.md, checked on the source tree: the layers' include
// arrows (base <- events <- schema <- projections <- engine <- http <- tools), internals kept
// inside their folder, heavy headers where they belong, and the size limits (no source file over
// 600 lines, no function over 80, outside tests and bench mains).

#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace marketsync {
namespace {

namespace fs = std::filesystem;

const fs::path kRoot = MARKETSYNC_SOURCE_DIR;

// The layers, lowest first; a file may include its own layer and those below.
// pglog/ (the log on PostgreSQL) sits beside events/: it uses the log's types and codec, and only
// tools choose it.
const std::vector<std::string> kLayers = {"base",        "events", "pglog", "schema",
                                          "projections", "engine", "http",  "tools"};

std::optional<size_t> LayerOf(const std::string& relative) {
  const std::string top = relative.substr(0, relative.find('/'));
  for (size_t i = 0; i < kLayers.size(); ++i) {
    if (kLayers[i] == top) return i;
  }
  return std::nullopt;
}

struct Source {
  std::string path;  // relative to the root
  std::vector<std::string> lines;
};

// Every .h and .cc of the layers (tests excluded).
std::vector<Source> Sources() {
  std::vector<Source> out;
  for (const std::string& layer : kLayers) {
    for (const auto& entry : fs::recursive_directory_iterator(kRoot / layer)) {
      const std::string ext = entry.path().extension().string();
      if (!entry.is_regular_file() || (ext != ".h" && ext != ".cc")) continue;
      Source s;
      s.path = fs::relative(entry.path(), kRoot).string();
      std::ifstream in(entry.path());
      for (std::string line; std::getline(in, line);) s.lines.push_back(line);
      out.push_back(std::move(s));
    }
  }
  return out;
}

std::vector<std::string> Includes(const Source& s, const std::regex& pattern) {
  std::vector<std::string> out;
  std::smatch m;
  for (const auto& line : s.lines) {
    if (std::regex_search(line, m, pattern)) out.push_back(m[1]);
  }
  return out;
}

TEST(LayoutTest, IncludesPointDownTheLayers) {
  const std::regex quoted(R"re(^\s*#\s*include\s+"([^"]+)")re");
  for (const Source& s : Sources()) {
    const size_t layer = *LayerOf(s.path);
    for (const std::string& inc : Includes(s, quoted)) {
      const std::optional<size_t> target = LayerOf(inc);
      if (!target) continue;  // a generated file (console_assets.h lives in http/)
      EXPECT_LE(*target, layer) << s.path << " (" << kLayers[layer] << ") includes " << inc << " ("
                                << kLayers[*target] << ")";
    }
  }
}

TEST(LayoutTest, InternalsStayInTheirFolder) {
  const std::regex quoted(R"re(^\s*#\s*include\s+"([^"]+/internal/[^"]+)")re");
  for (const Source& s : Sources()) {
    for (const std::string& inc : Includes(s, quoted)) {
      const std::string owner = inc.substr(0, inc.find("/internal/"));
      EXPECT_TRUE(s.path.starts_with(owner + "/")) << s.path << " includes " << inc << ", internal to " << owner;
    }
  }
}

TEST(LayoutTest, TheAuditCliNeedsNoEngine) {
  const std::regex quoted(R"re(^\s*#\s*include\s+"([^"]+)")re");
  for (const Source& s : Sources()) {
    if (!s.path.starts_with("tools/marketsync/")) continue;
    for (const std::string& inc : Includes(s, quoted)) {
      EXPECT_FALSE(inc.starts_with("engine/") || inc.starts_with("http/")) << s.path << " includes " << inc;
    }
  }
}

TEST(LayoutTest, HeavyHeadersStayWhereTheyBelong) {
  const std::regex angled(R"re(^\s*#\s*include\s+<([^>]+)>)re");
  for (const Source& s : Sources()) {
    for (const std::string& inc : Includes(s, angled)) {
      if (inc.starts_with("rocksdb/")) {
        EXPECT_TRUE(s.path.starts_with("events/") || s.path.starts_with("tools/bench/")) << s.path << " includes " << inc;
      }
      if (inc == "httplib.h") {  // the API's server (and benchmarks that call it) only
        const bool allowed = (s.path.starts_with("http/") && s.path.ends_with(".cc")) || s.path.starts_with("tools/bench/");
        EXPECT_TRUE(allowed) << s.path << " includes " << inc;
      }
      if (inc == "libpq-fe.h") {  // PostgreSQL's client, in pglog's sources only
        EXPECT_TRUE(s.path.starts_with("pglog/") && s.path.ends_with(".cc")) << s.path << " includes " << inc;
      }
      if (inc.starts_with("boost/beast")) {  // the eMAG client's transport and the simulator's front
        const bool allowed = s.path == "engine/emag/http_transport.cc" || s.path == "tools/emag-sim/http_front.cc";
        EXPECT_TRUE(allowed) << s.path << " includes " << inc;
      }
    }
  }
}

TEST(LayoutTest, NoSourceFileOver600Lines) {
  for (const Source& s : Sources()) EXPECT_LE(s.lines.size(), 600u) << s.path;
}

// Strips comments, string and character literals from a line, keeping its braces and parens.
// `in_raw` carries a raw string literal's delimiter across lines.
std::string Code(const std::string& line, std::string& in_raw) {
  std::string out;
  for (size_t i = 0; i < line.size(); ++i) {
    if (!in_raw.empty()) {
      const size_t end = line.find(in_raw, i);
      if (end == std::string::npos) return out;
      i = end + in_raw.size() - 1;
      in_raw.clear();
      continue;
    }
    const char c = line[i];
    if (c == '/' && i + 1 < line.size() && line[i + 1] == '/') break;
    if (c == 'R' && i + 1 < line.size() && line[i + 1] == '"') {
      const size_t paren = line.find('(', i);
      in_raw = ")" + line.substr(i + 2, paren - i - 2) + "\"";
      i = paren;
      continue;
    }
    const bool digit_separator = c == '\'' && i > 0 && std::isalnum(static_cast<unsigned char>(line[i - 1]));
    if (digit_separator) continue;
    if (c == '"' || c == '\'') {
      for (++i; i < line.size() && line[i] != c; ++i) {
        if (line[i] == '\\') ++i;
      }
      continue;
    }
    out.push_back(c);
  }
  return out;
}

bool StartsFunction(const std::string& code, const std::string& previous) {
  static const std::regex kNotAFunction(R"(^\s*(\}?\s*else|if|for|while|switch|do|try|catch|namespace|class|struct|enum|union|extern)\b)");
  std::string text = code.substr(0, code.rfind('{'));
  while (!text.empty() && text.back() == ' ') text.pop_back();
  if (std::regex_search(code, kNotAFunction) || std::regex_search(previous, kNotAFunction)) return false;
  static const std::regex kSignatureEnd(R"(\)\s*(const)?\s*(noexcept)?\s*(override|final)?\s*(->\s*[\w:<>,\s\*&]+)?$)");
  return std::regex_search(text, kSignatureEnd);
}

TEST(LayoutTest, NoFunctionOver80Lines) {
  for (const Source& s : Sources()) {
    const bool bench = s.path.starts_with("tools/bench/");
    int depth = 0;
    int function_depth = -1;  // the depth a function's body opened at; -1 outside one
    size_t start = 0;
    std::string signature, in_raw, previous;
    for (size_t n = 0; n < s.lines.size(); ++n) {
      const std::string code = Code(s.lines[n], in_raw);
      for (size_t i = 0; i < code.size(); ++i) {
        if (code[i] == '{') {
          if (function_depth < 0 && code.find_first_not_of(" ", i + 1) == std::string::npos &&
              StartsFunction(code, previous)) {
            function_depth = depth;
            start = n;
            signature = s.lines[n];
          }
          ++depth;
        } else if (code[i] == '}') {
          --depth;
          if (depth == function_depth) {
            const size_t length = n - start + 1;
            const bool bench_main = bench && signature.find("main(") != std::string::npos;
            if (!bench_main) {
              EXPECT_LE(length, 80u) << s.path << ":" << start + 1 << ": " << signature;
            }
            function_depth = -1;
          }
        }
      }
      if (code.find_first_not_of(" ") != std::string::npos) previous = code;
    }
  }
}

}  // namespace
}  // namespace marketsync
