#include "http/internal/routes.h"

#include <algorithm>

namespace marketsync::http {

bool MatchPattern(std::string_view pattern, std::string_view path, std::vector<std::string>* args) {
  if (args != nullptr) args->clear();
  while (!pattern.empty() || !path.empty()) {
    const size_t p_end = std::min(pattern.find('/', 1), pattern.size());
    const size_t s_end = std::min(path.find('/', 1), path.size());
    const std::string_view want = pattern.substr(0, p_end), got = path.substr(0, s_end);
    if (want.size() > 2 && want[1] == '{' && want.back() == '}') {
      if (got.size() < 2 || got[0] != '/') return false;  // a {name} takes one non-empty segment
      if (args != nullptr) args->emplace_back(got.substr(1));
    } else if (want != got) {
      return false;
    }
    pattern.remove_prefix(p_end);
    path.remove_prefix(s_end);
  }
  return true;
}

void RouteTable::Add(Route route) { routes_.push_back(std::move(route)); }

RouteTable::Match RouteTable::Find(std::string_view method, std::string_view path) const {
  if (method == "HEAD") method = "GET";
  Match m;
  for (const Route& r : routes_) {
    if (r.method == method && MatchPattern(r.pattern, path, &m.args)) {
      m.route = &r;
      return m;
    }
  }
  m.args.clear();
  return m;
}

std::string RouteTable::Allowed(std::string_view path) const {
  std::string out;
  for (const Route& r : routes_) {
    if (!MatchPattern(r.pattern, path, nullptr) || out.find(r.method) != std::string::npos) continue;
    out += (out.empty() ? "" : ", ") + r.method;
  }
  return out;
}

std::string RouteTable::Label(std::string_view path) const {
  for (const Route& r : routes_) {
    if (MatchPattern(r.pattern, path, nullptr)) return r.pattern;
  }
  return "other";
}

}  // namespace marketsync::http
