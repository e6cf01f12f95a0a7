#include "http/internal/tls.h"

#include <httplib.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <fmt/format.h>

namespace marketsync::http {
namespace {

// OpenSSL's most recent reason, and a clear queue for the next caller.
std::string OpenSslReason() {
  const char* reason = ERR_reason_error_string(ERR_peek_last_error());
  std::string out = reason != nullptr ? reason : "no reason given";
  ERR_clear_error();
  return out;
}

}  // namespace

Result<std::unique_ptr<httplib::Server>> NewListener(const std::string& cert_file, const std::string& key_file) {
  if (cert_file.empty()) return std::make_unique<httplib::Server>();
  std::string error;
  auto setup = [&](SSL_CTX& ctx) {
    SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    if (SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION) != 1) {
      error = "cannot require TLS 1.2: " + OpenSslReason();
    } else if (SSL_CTX_use_certificate_chain_file(&ctx, cert_file.c_str()) != 1) {
      error = fmt::format("cannot read the TLS certificate {} (PEM, the server's first, then its chain): {}",
                          cert_file, OpenSslReason());
    } else if (SSL_CTX_use_PrivateKey_file(&ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      error = fmt::format("cannot use the TLS key {} with the certificate {}: {}", key_file, cert_file,
                          OpenSslReason());
    } else if (SSL_CTX_check_private_key(&ctx) != 1) {
      error = fmt::format("the TLS key {} does not match the certificate {}: {}", key_file, cert_file,
                          OpenSslReason());
    }
    return error.empty();
  };
  auto server = std::make_unique<httplib::SSLServer>(setup);
  if (!server->is_valid()) {
    return Status::InvalidArgument(error.empty() ? "cannot set up TLS: " + OpenSslReason() : error);
  }
  return std::unique_ptr<httplib::Server>(std::move(server));
}

}  // namespace marketsync::http
