#include "events/sha256.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <memory>

namespace marketsync {
namespace {

struct MdFree {
  void operator()(EVP_MD* md) const { EVP_MD_free(md); }
};
struct CtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

const EVP_MD* Sha256Md() {
  static const std::unique_ptr<EVP_MD, MdFree> md(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  return md.get();
}

}  // namespace

void Sha256(const void* data, size_t n, uint8_t* out) {
  thread_local std::unique_ptr<EVP_MD_CTX, CtxFree> ctx(EVP_MD_CTX_new());
  const EVP_MD* md = Sha256Md();
  unsigned int len = 0;
  // These fail only when OpenSSL cannot allocate or has no SHA-256 at all: nothing sane remains.
  if (md == nullptr || ctx == nullptr || EVP_DigestInit_ex2(ctx.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data, n) != 1 || EVP_DigestFinal_ex(ctx.get(), out, &len) != 1) {
    std::abort();
  }
}

}  // namespace marketsync
