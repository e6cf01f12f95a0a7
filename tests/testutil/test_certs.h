#pragma once

// A certificate authority made at test time, and a server certificate it signs for 127.0.0.1,
// as PEM files in a directory (OpenSSL; nothing is committed, nothing outlives the test).

#include <string>

namespace marketsync::testing {

struct TestCerts {
  std::string ca_file;    // the CA's certificate: what a client trusts
  std::string cert_file;  // the server's certificate, for IP 127.0.0.1 and DNS localhost
  std::string key_file;   // the server's private key
};

// Creates `dir` if need be. Throws std::runtime_error when OpenSSL fails.
TestCerts MakeTestCerts(const std::string& dir);

}  // namespace marketsync::testing
