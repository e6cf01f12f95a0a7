#include "tests/testutil/child_process.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <regex>
#include <stdexcept>

namespace marketsync::testing {

ChildProcess::ChildProcess(const std::string& binary, const std::vector<std::string>& args) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    std::vector<char*> argv{const_cast<char*>(binary.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  out_ = fds[0];
}

ChildProcess::~ChildProcess() {
  if (!reaped_) {
    Kill();
    Wait();
  }
  if (out_ >= 0) ::close(out_);
}

std::vector<std::string> ChildProcess::TakeLines() {
  std::vector<std::string> lines;
  size_t nl;
  while ((nl = buffer_.find('\n')) != std::string::npos) {
    lines.push_back(buffer_.substr(0, nl));
    buffer_.erase(0, nl + 1);
  }
  return lines;
}

std::vector<std::string> ChildProcess::ReadLines(std::chrono::steady_clock::time_point deadline) {
  char chunk[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{out_, POLLIN, 0};
    if (::poll(&p, 1, 5) <= 0) continue;
    const ssize_t n = ::read(out_, chunk, sizeof chunk);
    if (n <= 0) break;
    buffer_.append(chunk, static_cast<size_t>(n));
  }
  return TakeLines();
}

std::vector<std::string> ChildProcess::DrainLines() {
  char chunk[4096];
  while (true) {
    const ssize_t n = ::read(out_, chunk, sizeof chunk);
    if (n <= 0) break;
    buffer_.append(chunk, static_cast<size_t>(n));
  }
  return TakeLines();
}

void ChildProcess::Kill() {
  if (!reaped_) ::kill(pid_, SIGKILL);
}

int ChildProcess::Wait() {
  if (!reaped_) {
    ::waitpid(pid_, &status_, 0);
    reaped_ = true;
  }
  return status_;
}

bool ChildProcess::Exited() {
  if (!reaped_ && ::waitpid(pid_, &status_, WNOHANG) == pid_) reaped_ = true;
  return reaped_;
}

std::string ProgramOutput::text() const {
  std::string t;
  for (const auto& l : lines) t += l + "\n";
  return t;
}

std::string WaitForListening(ChildProcess& daemon, std::vector<std::string>* printed, std::chrono::seconds timeout) {
  const std::regex listening(R"(listening on (http://127\.0\.0\.1:\d+))");
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string url;
  while (url.empty() && std::chrono::steady_clock::now() < deadline && !daemon.Exited()) {
    for (auto& line : daemon.ReadLines(std::chrono::steady_clock::now() + std::chrono::milliseconds(200))) {
      std::smatch m;
      if (std::regex_search(line, m, listening)) url = m[1];
      printed->push_back(std::move(line));
    }
  }
  return url;
}

ProgramOutput RunProgram(const std::string& binary, const std::vector<std::string>& args) {
  ChildProcess child(binary, args);
  ProgramOutput r;
  while (!child.Exited()) {
    for (auto& l : child.ReadLines(std::chrono::steady_clock::now() + std::chrono::milliseconds(50))) {
      r.lines.push_back(std::move(l));
    }
  }
  for (auto& l : child.DrainLines()) r.lines.push_back(std::move(l));
  const int status = child.Wait();
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

}  // namespace marketsync::testing
