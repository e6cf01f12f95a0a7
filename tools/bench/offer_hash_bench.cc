// What hashing costs per offer, on the simulator's offers (Google Benchmark): the raw-text
// hash every offer of every sync pays (RawTextHash, XXH3-128), the SHA-256 the same text cost
// before it (and that the envelope chain pays per event), the envelope's CRC-32C, and the
// canonical fingerprint an offer whose text changed pays. Items are offers; bytes are raw JSON.

#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <vector>

#include "engine/emag/response_parser.h"
#include "engine/offer_fingerprint.h"
#include "base/crc32c.h"
#include "base/sha256.h"
#include "tools/emag-sim/simulator.h"

namespace marketsync {
namespace {

struct Corpus {
  std::vector<std::string> texts;
  std::vector<emag::Offer> offers;
  size_t bytes = 0;
};

// 1,000 offers as the simulator renders them for account "main".
const Corpus& Offers() {
  static const Corpus corpus = [] {
    Corpus c;
    sim::SimulatorOptions o;
    o.accounts = {sim::DemoAccount("main")};
    o.offers = 1000;
    o.log_requests = false;
    auto simulator = sim::Simulator::Start(o, "127.0.0.1", 0);
    auto served = simulator.ok() ? (*simulator)->OffersForTest("main") : simulator.status();
    if (!served.ok()) {
      std::fprintf(stderr, "offer_hash_bench: simulator: %s\n", served.status().ToString().c_str());
      std::exit(1);
    }
    for (auto& [id, json] : *served) {
      auto page = emag::ParseReadResponse(R"({"isError":false,"results":[)" + json + "]}");
      if (!page.ok() || page->offers.size() != 1) {
        std::fprintf(stderr, "offer_hash_bench: offer %llu does not parse\n", static_cast<unsigned long long>(id));
        std::exit(1);
      }
      c.bytes += json.size();
      c.texts.push_back(std::move(json));
      c.offers.push_back(std::move(page->offers[0]));
    }
    return c;
  }();
  return corpus;
}

void Count(benchmark::State& state, const Corpus& c) {
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * c.texts.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * c.bytes));
}

void BM_RawTextHash(benchmark::State& state) {
  const Corpus& c = Offers();
  for (auto _ : state) {
    for (const std::string& t : c.texts) benchmark::DoNotOptimize(RawTextHash(t));
  }
  Count(state, c);
}
BENCHMARK(BM_RawTextHash);

void BM_Sha256OfText(benchmark::State& state) {
  const Corpus& c = Offers();
  uint8_t digest[32];
  for (auto _ : state) {
    for (const std::string& t : c.texts) {
      Sha256(t.data(), t.size(), digest);
      benchmark::DoNotOptimize(digest);
    }
  }
  Count(state, c);
}
BENCHMARK(BM_Sha256OfText);

// The envelope's CRC-32C over an event's bytes (here the offer text), computed on every append
// and checked on every read.
void BM_Crc32cOfText(benchmark::State& state) {
  const Corpus& c = Offers();
  for (auto _ : state) {
    for (const std::string& t : c.texts) benchmark::DoNotOptimize(Crc32c(t.data(), t.size()));
  }
  Count(state, c);
}
BENCHMARK(BM_Crc32cOfText);

void BM_Fingerprint(benchmark::State& state) {
  const Corpus& c = Offers();
  for (auto _ : state) {
    for (const emag::Offer& o : c.offers) benchmark::DoNotOptimize(Fingerprint(o));
  }
  Count(state, c);
}
BENCHMARK(BM_Fingerprint);

}  // namespace
}  // namespace marketsync

BENCHMARK_MAIN();
