// Credentials sealed at rest: they open only under the key and for the account they were
// sealed for, tampering is caught, a wrong key is named (never shown), and no secret appears in
// the sealed bytes or in any error.

#include "engine/sealed_credentials.h"

#include <gtest/gtest.h>

#include "tests/testutil/status_matchers.h"

namespace marketsync {
namespace {

constexpr std::string_view kKeyHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const Credentials kCreds{"seller@example.ro", "s3cr3t-Pa55word!"};

SecretKey Key(std::string_view text = kKeyHex) {
  auto k = SecretKey::Parse(text);
  EXPECT_TRUE(k.ok()) << k.status().ToString();
  return k.ok() ? *k : SecretKey{};
}

TEST(SealedCredentialsTest, SealedUnderAKeyOpensUnderThatKeyForThatAccount) {
  const SecretKey key = Key();
  auto sealed = SealCredentials(key, "main", kCreds);
  ASSERT_OK(sealed);
  EXPECT_EQ(sealed->find(kCreds.password), std::string::npos);
  EXPECT_EQ(sealed->find(kCreds.username), std::string::npos);
  auto opened = OpenCredentials(key, "main", *sealed);
  ASSERT_OK(opened);
  EXPECT_EQ(opened->username, kCreds.username);
  EXPECT_EQ(opened->password, kCreds.password);
  // A fresh nonce each time: the same secret never seals to the same bytes.
  EXPECT_NE(*SealCredentials(key, "main", kCreds), *sealed);
  EXPECT_EQ(*SealedKeyId(*sealed), key.id());
}

TEST(SealedCredentialsTest, AWrongKeyIsNamedAndNothingSecretIsShown) {
  auto sealed = SealCredentials(Key(), "main", kCreds);
  ASSERT_OK(sealed);
  auto other = SecretKey::Generate();
  ASSERT_OK(other);
  auto opened = OpenCredentials(*other, "main", *sealed);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), Status::Code::kFailedPrecondition);
  const std::string& m = opened.status().message();
  EXPECT_NE(m.find(Key().id()), std::string::npos) << m;
  EXPECT_NE(m.find(other->id()), std::string::npos) << m;
  EXPECT_EQ(m.find(kKeyHex), std::string::npos);
  EXPECT_EQ(m.find(other->ToHex()), std::string::npos);
  EXPECT_EQ(m.find(kCreds.password), std::string::npos);
}

TEST(SealedCredentialsTest, TamperedTruncatedOrMovedRowsDoNotOpen) {
  const SecretKey key = Key();
  auto sealed = SealCredentials(key, "main", kCreds);
  ASSERT_OK(sealed);
  for (size_t i = 1 + 8; i < sealed->size(); ++i) {  // every byte after the key id
    std::string bad = *sealed;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    auto r = OpenCredentials(key, "main", bad);
    ASSERT_FALSE(r.ok()) << "byte " << i;
    EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
  }
  EXPECT_FALSE(OpenCredentials(key, "main", sealed->substr(0, sealed->size() - 1)).ok());
  EXPECT_FALSE(OpenCredentials(key, "main", "").ok());
  auto moved = OpenCredentials(key, "fbe", *sealed);  // another account's row
  ASSERT_FALSE(moved.ok());
  EXPECT_EQ(moved.status().code(), Status::Code::kCorruption);
}

TEST(SealedCredentialsTest, KeysAreHexOrBase64Of32BytesAndBadOnesAreNotEchoed) {
  const SecretKey hex = Key();
  auto b64 = SecretKey::Parse("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n");
  ASSERT_OK(b64);
  EXPECT_EQ(b64->id(), hex.id());
  EXPECT_EQ(Key(std::string("  ") + std::string(kKeyHex) + "\n").id(), hex.id());
  for (std::string bad : {std::string(""), std::string("short"), std::string(63, 'a'), std::string(64, 'g'),
                          std::string(44, '='), std::string("hunter2-hunter2-hunter2-hunter2-hunter2-hunt")}) {
    auto k = SecretKey::Parse(bad);
    ASSERT_FALSE(k.ok()) << bad;
    EXPECT_EQ(k.status().code(), Status::Code::kInvalidArgument);
    if (!bad.empty()) {
      EXPECT_EQ(k.status().message().find(bad), std::string::npos) << k.status().message();
    }
  }
  auto g = SecretKey::Generate();
  ASSERT_OK(g);
  EXPECT_EQ(Key(g->ToHex()).id(), g->id());
  EXPECT_NE(g->id(), hex.id());
}

}  // namespace
}  // namespace marketsync
