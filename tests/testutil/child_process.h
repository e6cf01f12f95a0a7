#pragma once

// A helper binary run as a child process whose stdout is read line by line, for the crash
// campaigns that kill it with SIGKILL.

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace marketsync::testing {

// Thread safety: one thread. The destructor kills and reaps a child still running.
class ChildProcess {
 public:
  // Starts `binary` with `args`; its stdout comes back through ReadLines.
  ChildProcess(const std::string& binary, const std::vector<std::string>& args);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Complete lines printed until `deadline` or the end of its output.
  std::vector<std::string> ReadLines(std::chrono::steady_clock::time_point deadline);
  // Every complete line left once the child is gone (what it printed before dying).
  std::vector<std::string> DrainLines();
  void Kill();
  // Waits for it to end; the waitpid status.
  int Wait();
  // True once it has ended; then Wait() returns at once.
  bool Exited();
  // Its process id (for SIGSTOP and SIGCONT).
  pid_t pid() const { return pid_; }

 private:
  std::vector<std::string> TakeLines();

  pid_t pid_ = -1;
  int out_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  std::string buffer_;
};

// Reads a starting marketsyncd's output until it says where it listens ("listening on
// http://127.0.0.1:N"); returns that URL, or "" when it exited or `timeout` passed. Every line
// read goes into *printed.
std::string WaitForListening(ChildProcess& daemon, std::vector<std::string>* printed,
                             std::chrono::seconds timeout = std::chrono::seconds(60));

// What a program printed on stdout (line by line) and how it exited.
struct ProgramOutput {
  int exit_code = -1;  // 128 + the signal when a signal ended it
  std::vector<std::string> lines;
  // The lines, each ending in a newline.
  std::string text() const;
};

// Runs `binary` with `args` to its end.
ProgramOutput RunProgram(const std::string& binary, const std::vector<std::string>& args);

}  // namespace marketsync::testing
