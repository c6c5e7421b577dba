// Relays at the aggregator (Aggregator::ExportPartial / AddPartial,
// coordinator/relay_topology.h): n updates split among relays in any way,
// each relay's partial encoded and decoded as on the wire, and added at the
// root, give the direction of all n added flat, bit for bit, for every rule
// that has a partial (the mean of dense, sparse and sign updates, with
// weights and with a norm bound; sign-mean; majority); the robust rules have
// none, and the topology check refuses them and every config a tree cannot
// run exactly.
#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "coordinator/aggregator.h"
#include "coordinator/node_table.h"
#include "coordinator/relay_topology.h"
#include "coordinator/update_collector.h"
#include "core/rng.h"
#include "schemas/codec/bit_pack.h"
#include "schemas/codec/exact_partial.h"
#include "schemas/codec/wire.h"

namespace edgefl {
namespace {

constexpr uint32_t kDimension = 300;

// One node's update, decoded, with the storage its views point into.
struct Update {
  std::vector<float> dense;
  std::vector<uint32_t> indices;
  std::vector<uint8_t> signs;
  codec::DecodedPayload decoded;
  uint32_t weight = 1;
};

std::vector<Update> MakeUpdates(wire::CompressorKind kind, uint32_t n, bool weighted, uint64_t seed) {
  Rng rng(seed);
  std::vector<Update> updates(n);
  for (Update& u : updates) {
    u.weight = weighted ? 1 + static_cast<uint32_t>(rng.Below(50)) : 1;
    u.dense.resize(kDimension);
    for (float& v : u.dense) v = static_cast<float>(rng.Normal() * (1 + rng.Below(1000)));
    codec::DecodedPayload& p = u.decoded;
    if (kind == wire::CompressorKind::TopK) {
      std::vector<float> kept;
      for (uint32_t j = 0; j < kDimension; ++j) {
        if (rng.Below(10) == 0) {
          u.indices.push_back(j);
          kept.push_back(u.dense[j]);
        }
      }
      u.dense = kept;
      p.form = codec::DecodedPayload::Form::kSparse;
      p.indices = u.indices;
      p.values = u.dense;
    } else if (kind == wire::CompressorKind::Sign || kind == wire::CompressorKind::ScaledSign) {
      u.signs.assign(codec::PackedSignBytes(kDimension), 0);
      codec::PackSigns(u.dense, u.signs);
      p.form = codec::DecodedPayload::Form::kSigns;
      p.sign_bits = u.signs;
      p.sign_scale = kind == wire::CompressorKind::Sign ? 1.0f : static_cast<float>(rng.Uniform() * 3);
    } else {
      p.form = codec::DecodedPayload::Form::kDense;
      p.dense = u.dense;
    }
  }
  return updates;
}

RelayTopology Topology(uint32_t relays, uint32_t group = 0, const std::string& parent = "") {
  RelayTopology t;
  t.relays = relays;
  t.group = group;
  t.parent = parent;
  return t;
}

std::unique_ptr<Aggregator> Make(const AggregatorConfig& config, wire::CompressorKind kind, uint32_t nodes) {
  codec::CompressorSpec compressor;
  compressor.kind = kind;
  compressor.k = kDimension;
  return MakeAggregator(config, kind, nodes, kDimension, codec::UpdateSizeLimit(compressor, kDimension));
}

// The flat direction, and the root's from relays each given a run of
// consecutive updates of `sizes`.
void Compare(const AggregatorConfig& config, wire::CompressorKind kind, bool weighted, std::vector<uint32_t> sizes) {
  uint32_t n = 0;
  for (uint32_t s : sizes) n += s;
  const std::vector<Update> updates = MakeUpdates(kind, n, weighted, 11 + n);
  auto flat = Make(config, kind, n);
  flat->StartRound(0);
  for (uint32_t i = 0; i < n; ++i) flat->AddFrom(i, updates[i].decoded, updates[i].weight);
  std::vector<double> expected(kDimension);
  flat->Finish(expected);

  auto root = Make(config, kind, static_cast<uint32_t>(sizes.size()));
  REQUIRE(root->partial_kind().has_value());
  root->StartRound(0);
  uint32_t next = 0;
  std::vector<codec::Int128> exported(kDimension);
  std::vector<codec::Int128> decoded(kDimension);
  for (uint32_t size : sizes) {
    auto relay = Make(config, kind, n);  // a relay's table holds every id
    relay->StartRound(0);
    for (uint32_t i = 0; i < size; ++i, ++next) relay->AddFrom(next, updates[next].decoded, updates[next].weight);
    codec::ExactPartial partial;
    relay->ExportPartial(exported, &partial);
    CHECK(partial.updates == size);
    // Over the wire, as a root receives it.
    flatbuffers::FlatBufferBuilder fbb;
    codec::EncodeExactPartial(fbb, 0, codec::UpdateHeader{}, partial);
    std::vector<uint64_t> words((fbb.GetSize() + 7) / 8);
    std::memcpy(words.data(), fbb.GetBufferPointer(), fbb.GetSize());
    const wire::Envelope* envelope = nullptr;
    REQUIRE(codec::ReadEnvelope({reinterpret_cast<const uint8_t*>(words.data()), fbb.GetSize()}, &envelope).ok());
    codec::ExactPartial received;
    REQUIRE(codec::DecodeExactPartial(*envelope->body_as_Update(), *root->partial_kind(), kDimension, decoded,
                                      &received)
                .ok());
    root->AddPartial(received);
  }
  CHECK(root->count() == n);
  CHECK(root->bounded() == flat->bounded());
  CHECK(root->vote_levels() == flat->vote_levels());
  std::vector<double> got(kDimension);
  root->Finish(got);
  CHECK(std::memcmp(got.data(), expected.data(), kDimension * sizeof(double)) == 0);
}

}  // namespace

TEST_CASE("relays' partials added at the root give the flat direction bit for bit") {
  const std::vector<std::vector<uint32_t>> splits = {{12}, {6, 6}, {4, 4, 4}, {1, 5, 2, 4}, {11, 1}};
  struct Case {
    const char* name;
    AggregatorKind rule;
    wire::CompressorKind compressor;
    double bound;
  };
  const Case cases[] = {
      {"mean of dense", AggregatorKind::kMean, wire::CompressorKind::Identity, 0.0},
      {"mean of sparse", AggregatorKind::kMean, wire::CompressorKind::TopK, 0.0},
      {"mean of scaled signs", AggregatorKind::kMean, wire::CompressorKind::ScaledSign, 0.0},
      {"mean, norm-bounded", AggregatorKind::kMean, wire::CompressorKind::Identity, 500.0},
      {"sign-mean", AggregatorKind::kSignMean, wire::CompressorKind::Sign, 0.0},
      {"majority", AggregatorKind::kMajority, wire::CompressorKind::Sign, 0.0},
  };
  for (const Case& c : cases) {
    for (const bool weighted : {false, true}) {
      if (weighted && c.bound > 0.0) continue;
      for (const auto& split : splits) {
        CAPTURE(c.name);
        CAPTURE(weighted);
        CAPTURE(split.size());
        AggregatorConfig config;
        config.kind = c.rule;
        config.max_update_norm = c.bound;
        config.weighting = weighted ? Weighting::kSamples : Weighting::kUniform;
        Compare(config, c.compressor, weighted, split);
      }
    }
  }
}

TEST_CASE("the robust rules have no partial") {
  for (const AggregatorKind kind : {AggregatorKind::kMedian, AggregatorKind::kTrimmedMean, AggregatorKind::kKrum,
                                    AggregatorKind::kCenteredClip}) {
    AggregatorConfig config;
    config.kind = kind;
    config.trim = 0.1;
    config.byzantine = 1;
    CHECK_FALSE(Make(config, wire::CompressorKind::Identity, 8)->partial_kind().has_value());
  }
  AggregatorConfig momentum;
  momentum.node_momentum = 0.9;
  CHECK_FALSE(Make(momentum, wire::CompressorKind::Identity, 8)->partial_kind().has_value());
}

TEST_CASE("a relay tree refuses, with the reason, what it cannot run exactly") {
  ExperimentConfig config;
  config.nodes = 8;
  const RelayTopology root = Topology(2);
  CHECK(CheckRelayTopology(config, root).ok());
  CHECK(CheckRelayTopology(config, RelayTopology{}).ok());
  const auto refusal = [&](ExperimentConfig c, RelayTopology t = Topology(2)) {
    const Status s = CheckRelayTopology(c, t);
    CHECK_FALSE(s.ok());
    return std::string(s.message());
  };
  CHECK(refusal(config, Topology(3, 0)).find("does not divide run.nodes = 8") !=
        std::string::npos);
  CHECK(refusal(config, Topology(2, 2, "tcp://127.0.0.1:5555")).find("--group 2") !=
        std::string::npos);
  CHECK(refusal(config, Topology(0, 0, "tcp://127.0.0.1:5555")).find("--parent needs") !=
        std::string::npos);
  ExperimentConfig c = config;
  c.aggregator.kind = AggregatorKind::kKrum;
  CHECK(refusal(c).find("\"krum\" needs every update") != std::string::npos);
  c = config;
  c.aggregator.kind = AggregatorKind::kMedian;
  CHECK(refusal(c).find("\"median\"") != std::string::npos);
  c = config;
  c.aggregator.node_momentum = 0.5;
  CHECK(refusal(c).find("node_momentum") != std::string::npos);
  c = config;
  c.round.cohort = 4;
  c.round.availability = 0.5;
  CHECK(CheckRelayTopology(c, root).ok());  // drawn over the population by root and relays alike
  c.round.over_commit = 0.5;
  CHECK(refusal(c).find("round.over_commit") != std::string::npos);
  c = config;
  c.round.dropout = 0.1;
  CHECK(refusal(c).find("dropout") != std::string::npos);
  // In-process nodes: synthetic objectives, one task, no link to shape.
  RelayTopology in_process = Topology(2, 1, "tcp://127.0.0.1:5555");
  in_process.in_process = true;
  CHECK(CheckRelayTopology(config, in_process).ok());
  c = config;
  c.objective.kind = wire::ObjectiveKind::Logistic;
  CHECK(refusal(c, in_process).find("in-process nodes take synthetic objectives") != std::string::npos);
  c = config;
  c.link.shaping = LinkShaping::kTokenBucket;
  CHECK(refusal(c, in_process).find("link.shaping") != std::string::npos);
  RelayTopology root_in_process = Topology(2);
  root_in_process.in_process = true;
  CHECK(refusal(config, root_in_process).find("--in-process is a relay's") != std::string::npos);
  RelayTopology flat_in_process;
  flat_in_process.in_process = true;
  CHECK(refusal(config, flat_in_process).find("--in-process is a relay's") != std::string::npos);
  RelayTopology key_without_parent = Topology(2);
  key_without_parent.parent_key.secret_key = "secret";
  CHECK(refusal(config, key_without_parent).find("--parent-key is a relay's") != std::string::npos);
  c = config;
  c.round.clock = RoundClock::kVirtual;
  CHECK(refusal(c).find("virtual") != std::string::npos);
  c = config;
  c.round.downlink = DownlinkForm::kStep;
  CHECK(CheckRelayTopology(c, root).ok());  // a relay keeps a replica and hands the steps on
  c = config;
  c.local.optimizer = wire::LocalOptimizer::Scaffold;
  CHECK(refusal(c).find("scaffold") != std::string::npos);
}

TEST_CASE("the root refuses a partial fuller or heavier than its relay's share") {
  AggregatorConfig config;
  auto root = Make(config, wire::CompressorKind::Identity, 2);
  NodeTable relays(2);
  codec::CompressorSpec compressor;
  UpdateCollector collector(compressor, kDimension, *root, relays, Weighting::kUniform, nullptr, /*partials=*/true);
  const std::vector<codec::Int128> values(kDimension, codec::Int128{3} << 64);
  const auto offer = [&](uint32_t round, uint32_t updates, uint64_t weight) {
    NodeSlot& slot = relays[0];
    slot.joined = slot.alive = slot.participant = true;
    slot.answered = false;
    slot.serves = 4;
    collector.Open(round);
    flatbuffers::FlatBufferBuilder fbb;
    codec::EncodeExactPartial(fbb, round, codec::UpdateHeader{},
                              codec::ExactPartial{.kind = wire::PartialKind::Sums,
                                                  .updates = updates,
                                                  .total_weight = weight,
                                                  .weight_gcd = 1,
                                                  .bounded = 0,
                                                  .values = values});
    std::vector<uint64_t> words((fbb.GetSize() + 7) / 8);
    std::memcpy(words.data(), fbb.GetBufferPointer(), fbb.GetSize());
    const wire::Envelope* envelope = nullptr;
    REQUIRE(codec::ReadEnvelope({reinterpret_cast<const uint8_t*>(words.data()), fbb.GetSize()}, &envelope).ok());
    Status s = collector.Check(0, round, *envelope->body_as_Update(), fbb.GetSize());
    if (s.ok()) s = collector.Add(0, *envelope->body_as_Update());
    return s.ok() ? std::string() : std::string(s.message());
  };
  CHECK(offer(0, 4, 4).empty());
  CHECK(collector.count() == 4);
  CHECK(offer(1, 5, 5).find("partial combines 5 updates, and relay 0 was asked for 4") != std::string::npos);
  CHECK(offer(2, 4, 6).find("partial of 4 updates weighs 6 (gcd 1), and this run weighs every update 1") !=
        std::string::npos);
  CHECK(collector.count() == 0);
}

}  // namespace edgefl

