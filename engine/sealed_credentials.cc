#include "engine/sealed_credentials.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cctype>
#include <cstring>
#include <memory>

#include "base/sha256.h"
#include "engine/offer_fingerprint.h"

namespace marketsync {
namespace {

constexpr uint8_t kVersion = 1;
constexpr size_t kKeyIdBytes = 8;
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;
constexpr size_t kHeaderBytes = 1 + kKeyIdBytes + kNonceBytes;

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

std::string Hex(const uint8_t* p, size_t n) { return ToHex(std::string_view(reinterpret_cast<const char*>(p), n)); }

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::array<uint8_t, kKeyIdBytes> KeyId(const SecretKey& key) {
  uint8_t digest[32];
  Sha256(key.bytes().data(), key.bytes().size(), digest);
  std::array<uint8_t, kKeyIdBytes> id{};
  std::memcpy(id.data(), digest, id.size());
  return id;
}

void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

bool GetString(std::string_view& in, std::string* out) {
  if (in.size() < 4) return false;
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n |= static_cast<uint32_t>(static_cast<uint8_t>(in[i])) << (8 * i);
  in.remove_prefix(4);
  if (n > in.size()) return false;
  out->assign(in.substr(0, n));
  in.remove_prefix(n);
  return true;
}

// Wipes a buffer that held a secret (not optimised away: OPENSSL_cleanse).
void Wipe(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
}

}  // namespace

Result<SecretKey> SecretKey::Parse(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  SecretKey key;
  if (text.size() == 2 * kBytes) {
    for (size_t i = 0; i < kBytes; ++i) {
      const int hi = HexDigit(text[2 * i]), lo = HexDigit(text[2 * i + 1]);
      if (hi < 0 || lo < 0) return Status::InvalidArgument("the secret key is 64 characters but not hex digits");
      key.bytes_[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    return key;
  }
  if (text.size() == 44 && text.back() == '=' && text[42] != '=') {  // base64 of 32 bytes
    uint8_t out[33];
    if (EVP_DecodeBlock(out, reinterpret_cast<const unsigned char*>(text.data()), 44) == 33) {
      std::memcpy(key.bytes_.data(), out, kBytes);
      OPENSSL_cleanse(out, sizeof(out));
      return key;
    }
  }
  return Status::InvalidArgument(
      "the secret key must be 32 bytes written as 64 hex digits or as base64 (44 characters); "
      "make one with `openssl rand -hex 32`");
}

Result<SecretKey> SecretKey::Generate() {
  SecretKey key;
  if (RAND_bytes(key.bytes_.data(), static_cast<int>(kBytes)) != 1) return Status::Internal("no random bytes for a key");
  return key;
}

std::string SecretKey::id() const {
  const auto id = KeyId(*this);
  return Hex(id.data(), id.size());
}

std::string SecretKey::ToHex() const { return Hex(bytes_.data(), bytes_.size()); }

Result<std::string> SealCredentials(const SecretKey& key, std::string_view account, const Credentials& c) {
  std::string plain;
  PutU32(plain, static_cast<uint32_t>(c.username.size()));
  plain += c.username;
  PutU32(plain, static_cast<uint32_t>(c.password.size()));
  plain += c.password;

  std::string out(kHeaderBytes + plain.size() + kTagBytes, '\0');
  auto* p = reinterpret_cast<uint8_t*>(out.data());
  p[0] = kVersion;
  const auto id = KeyId(key);
  std::memcpy(p + 1, id.data(), id.size());
  uint8_t* nonce = p + 1 + kKeyIdBytes;
  if (RAND_bytes(nonce, kNonceBytes) != 1) {
    Wipe(plain);
    return Status::Internal("no random bytes for a nonce");
  }
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  bool ok = ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.bytes().data(), nonce) == 1 &&
            EVP_EncryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const uint8_t*>(account.data()),
                              static_cast<int>(account.size())) == 1 &&
            EVP_EncryptUpdate(ctx.get(), p + kHeaderBytes, &len, reinterpret_cast<const uint8_t*>(plain.data()),
                              static_cast<int>(plain.size())) == 1 &&
            EVP_EncryptFinal_ex(ctx.get(), p + kHeaderBytes + len, &len) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, p + kHeaderBytes + plain.size()) == 1;
  Wipe(plain);
  if (!ok) return Status::Internal("AES-256-GCM sealing failed");
  return out;
}

Result<std::string> SealedKeyId(std::string_view sealed) {
  if (sealed.size() < kHeaderBytes + kTagBytes || static_cast<uint8_t>(sealed[0]) != kVersion) {
    return Status::Corruption("not a sealed credentials row");
  }
  return Hex(reinterpret_cast<const uint8_t*>(sealed.data()) + 1, kKeyIdBytes);
}

Result<Credentials> OpenCredentials(const SecretKey& key, std::string_view account, std::string_view sealed) {
  MS_ASSIGN_OR_RETURN(std::string sealed_id, SealedKeyId(sealed));
  if (sealed_id != key.id()) {
    return Status::FailedPrecondition("the credentials of account " + std::string(account) + " were sealed with key " +
                                      sealed_id + ", not with the key given (" + key.id() +
                                      "): start with the key they were stored with");
  }
  const auto* p = reinterpret_cast<const uint8_t*>(sealed.data());
  const size_t cipher_bytes = sealed.size() - kHeaderBytes - kTagBytes;
  std::string plain(cipher_bytes, '\0');
  std::array<uint8_t, kTagBytes> tag{};
  std::memcpy(tag.data(), p + kHeaderBytes + cipher_bytes, kTagBytes);
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  const bool ok =
      ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.bytes().data(), p + 1 + kKeyIdBytes) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const uint8_t*>(account.data()),
                        static_cast<int>(account.size())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<uint8_t*>(plain.data()), &len, p + kHeaderBytes,
                        static_cast<int>(cipher_bytes)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<uint8_t*>(plain.data()) + len, &len) == 1;
  if (!ok) {
    Wipe(plain);
    return Status::Corruption("the sealed credentials of account " + std::string(account) +
                              " do not authenticate (damaged, or another account's row)");
  }
  Credentials c;
  std::string_view in(plain);
  const bool parsed = GetString(in, &c.username) && GetString(in, &c.password) && in.empty();
  Wipe(plain);
  if (!parsed) return Status::Corruption("the sealed credentials of account " + std::string(account) + " are malformed");
  return c;
}

}  // namespace marketsync
