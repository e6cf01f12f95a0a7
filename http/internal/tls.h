#pragma once

// The listening half of the server: plain HTTP, or HTTPS from a certificate chain and a key in
// PEM files (TLS 1.2 at least). No httplib here: only server.cc and tls.cc include it.

#include <memory>
#include <string>

#include "base/status.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace marketsync::http {

// An httplib::Server (an SSLServer when `cert_file` is given). Errors: kInvalidArgument naming
// the file that cannot be read or the key that does not match the certificate, with OpenSSL's
// reason.
Result<std::unique_ptr<httplib::Server>> NewListener(const std::string& cert_file, const std::string& key_file);

}  // namespace marketsync::http
