#pragma once

// Seller credentials sealed for storage at rest (issue 16: accounts as data). They never go into
// the hash-chained log, which cannot forget: a sealed row lives in a store of its own and can be
// deleted. AES-256-GCM (OpenSSL EVP) under a key the operator provides; the account's name is the
// associated data, so a row copied to another account does not open.
//
//   sealed := version:u8 (1) key_id:byte{8} nonce:byte{12} ciphertext tag:byte{16}
//   plain  := username_length:u32 username password_length:u32 password   (little-endian)
//
// key_id (the first 8 bytes of SHA-256 of the key) tells a wrong key from damaged bytes without
// trying to decrypt. Nothing here ever puts a secret, or the key, in an error message.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace marketsync {

struct Credentials {
  std::string username;
  std::string password;
};

class SecretKey {
 public:
  static constexpr size_t kBytes = 32;
  // The key as the operator writes it (MARKETSYNC_SECRET_KEY, or a key file's first line): 64
  // hex digits, or the standard base64 of 32 bytes; surrounding whitespace is ignored.
  // Errors: kInvalidArgument saying which forms are accepted (the text itself is never echoed).
  static Result<SecretKey> Parse(std::string_view text);
  // A new random key (OpenSSL's RAND_bytes), as 64 hex digits by ToHex.
  static Result<SecretKey> Generate();

  // 16 hex digits naming the key without revealing it.
  std::string id() const;
  std::string ToHex() const;
  const std::array<uint8_t, kBytes>& bytes() const { return bytes_; }

 private:
  std::array<uint8_t, kBytes> bytes_{};
};

// Seals `c` for `account` under `key` with a fresh random nonce. Errors: kInternal from OpenSSL.
Result<std::string> SealCredentials(const SecretKey& key, std::string_view account, const Credentials& c);

// Opens a sealed row of `account`. Errors: kFailedPrecondition when the row was sealed under
// another key (names both key ids), kCorruption for bytes that are not a sealed row or fail
// authentication (tampered, truncated, or another account's row).
Result<Credentials> OpenCredentials(const SecretKey& key, std::string_view account, std::string_view sealed);

// The id of the key a sealed row names; kCorruption when it is not a sealed row.
Result<std::string> SealedKeyId(std::string_view sealed);

}  // namespace marketsync
