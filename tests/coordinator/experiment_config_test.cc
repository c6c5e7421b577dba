#include "coordinator/experiment_config.h"

#include <doctest/doctest.h>

#include <string>

namespace edgefl {
namespace {

Status Load(const std::string& text, std::vector<ExperimentConfig>* out, std::vector<std::string> overrides = {}) {
  return LoadExperiments(text, "test.toml", overrides, out);
}

bool Mentions(const Status& s, const char* what) { return std::string(s.message()).find(what) != std::string::npos; }

TEST_CASE("a minimal config takes every default") {
  std::vector<ExperimentConfig> configs;
  REQUIRE(Load("[run]\nnodes = 3\n", &configs).ok());
  REQUIRE(configs.size() == 1);
  CHECK(configs[0].nodes == 3);
  CHECK(configs[0].objective.dimension == 100);
  CHECK(configs[0].aggregator.kind == AggregatorKind::kMean);
  CHECK(configs[0].QuorumCount() == 2);  // half the nodes, rounded up
}

TEST_CASE("errors name the key") {
  std::vector<ExperimentConfig> configs;
  Status s = Load("[compressor]\nkind = \"rand-k\"\nkk = 3\n", &configs);
  CHECK(Mentions(s, "unknown key 'compressor.kk'"));
  s = Load("[compresor]\nkind = \"sign\"\n", &configs);
  CHECK(Mentions(s, "compresor"));
  s = Load("[objective]\ndimension = 10\n[compressor]\nkind = \"rand-k\"\nk = 11\n", &configs);
  CHECK(Mentions(s, "compressor.k = 11"));
  s = Load("[compressor]\nkind = \"qsgd\"\nlevels = 0\n", &configs);
  CHECK(Mentions(s, "compressor.levels = 0"));
  s = Load("[compressor]\nkind = \"bernoulli\"\np = 1.5\n", &configs);
  CHECK(Mentions(s, "compressor.p = 1.5"));
  s = Load("[compressor]\nkind = \"zip\"\n", &configs);
  CHECK(Mentions(s, "compressor.kind = \"zip\""));
  s = Load("[run]\nnodes = \"eight\"\n", &configs);
  CHECK(Mentions(s, "run.nodes must be an integer"));
  s = Load("[run]\nnodes = 0\n", &configs);
  CHECK(Mentions(s, "run.nodes = 0"));
  s = Load("[step]\neta = -1\n", &configs);
  CHECK(Mentions(s, "step.eta"));
  s = Load("[round]\nquorum = 0\n", &configs);
  CHECK(Mentions(s, "round.quorum"));
  s = Load("[aggregator]\nkind = \"majority\"\n", &configs);
  CHECK(Mentions(s, "aggregator.kind"));
  s = Load("[step]\nrule = \"vankov\"\nl0 = 0\n", &configs);
  CHECK(Mentions(s, "step.l0 = 0"));
  s = Load("[step]\nrule = \"l0l1\"\n[noise]\nkind = \"student-t\"\nnu = 2\n", &configs);
  CHECK(Mentions(s, "finite noise variance"));
  s = Load("[server]\noptimizer = \"lion\"\n", &configs);
  CHECK(Mentions(s, "server.optimizer = \"lion\""));
  s = Load("[run\n", &configs);
  CHECK(Mentions(s, "test.toml:1"));
}

TEST_CASE("the robust aggregators' keys are checked against the rest of the config") {
  std::vector<ExperimentConfig> configs;
  Status s = Load("[aggregator]\nkind = \"trimmed-mean\"\ntrim = 0.5\n", &configs);
  CHECK(Mentions(s, "aggregator.trim = 0.5: must be in [0, 0.5)"));
  s = Load("[run]\nnodes = 6\n[aggregator]\nkind = \"krum\"\nbyzantine = 2\n", &configs);
  CHECK(Mentions(s, "aggregator.byzantine = 2: krum needs run.nodes >= 2f + 3 = 7 (got 6)"));
  s = Load("[run]\nnodes = 7\n[aggregator]\nkind = \"krum\"\nbyzantine = 2\nkrum_select = 6\n", &configs);
  CHECK(Mentions(s, "aggregator.krum_select = 6: krum averages at most run.nodes - byzantine = 5 updates"));
  s = Load("[compressor]\nkind = \"sign\"\n[aggregator]\nmax_update_norm = 3.0\n", &configs);
  CHECK(Mentions(s, "aggregator.max_update_norm = 3: aggregator.kind = \"sign-mean\" counts each update's signs once"));
  s = Load("[aggregator]\nmax_update_norm = -1.0\n", &configs);
  CHECK(Mentions(s, "aggregator.max_update_norm"));
  s = Load("[run]\nnodes = 4096\n[objective]\ndimension = 2000000\n[aggregator]\nkind = \"median\"\n", &configs);
  CHECK(Mentions(s, "keeps every update of a round"));
  // Centred clipping, bucketing and node momentum.
  s = Load("[aggregator]\nkind = \"centered-clip\"\nclip_radius = 0\n", &configs);
  CHECK(Mentions(s, "aggregator.clip_radius = 0: must be > 0"));
  s = Load("[aggregator]\nkind = \"centered-clip\"\nclip_iterations = 0\n", &configs);
  CHECK(Mentions(s, "aggregator.clip_iterations"));
  s = Load("[aggregator]\nnode_momentum = 1.0\n", &configs);
  CHECK(Mentions(s, "aggregator.node_momentum = 1: must be in [0, 1)"));
  s = Load("[compressor]\nkind = \"sign\"\n[aggregator]\nnode_momentum = 0.9\n", &configs);
  CHECK(Mentions(s, "aggregator.node_momentum = 0.9: aggregator.kind = \"sign-mean\" counts signs"));
  s = Load("[aggregator]\nkind = \"mean\"\nbucket_size = 2\n", &configs);
  CHECK(Mentions(s, "aggregator.bucket_size = 2: bucketing feeds bucket means to a robust rule"));
  s = Load("[run]\nnodes = 4\n[aggregator]\nkind = \"median\"\nbucket_size = 5\n", &configs);
  CHECK(Mentions(s, "aggregator.bucket_size = 5: more than run.nodes = 4"));
  s = Load("[run]\nnodes = 10\n[aggregator]\nkind = \"krum\"\nbyzantine = 1\nbucket_size = 3\n", &configs);
  CHECK(Mentions(
      s, "aggregator.byzantine = 1: krum needs buckets ceil(run.nodes / bucket_size) >= 2f + 3 = 5 (got 4)"));
  REQUIRE(Load("[run]\nnodes = 10\n[aggregator]\nkind = \"krum\"\nbyzantine = 1\nbucket_size = 2\n"
               "node_momentum = 0.9\n", &configs).ok());
  REQUIRE(Load("[compressor]\nkind = \"sign\"\n[aggregator]\nkind = \"centered-clip\"\nnode_momentum = 0.9\n",
               &configs).ok());
  // A byzantine count Krum cannot meet is fine for the kinds that ignore it.
  REQUIRE(Load("[run]\nnodes = 4\n[aggregator]\nkind = \"median\"\nbyzantine = 3\n", &configs).ok());
  // Every robust kind takes every compressor, plain signs included.
  for (const char* compressor : {"identity", "rand-k", "bernoulli", "qsgd", "natural", "sign", "scaled-sign",
                                 "ef-sign", "top-k"}) {
    for (const char* kind : {"median", "trimmed-mean", "krum", "centered-clip"}) {
      CAPTURE(compressor);
      CAPTURE(kind);
      configs.clear();
      const Status loaded = Load(std::string("[run]\nnodes = 5\n[compressor]\nkind = \"") + compressor +
                                     "\"\nk = 10\np = 0.1\nlevels = 4\n[aggregator]\nkind = \"" + kind +
                                     "\"\nmax_update_norm = 10.0\n",
                                 &configs);
      CHECK_MESSAGE(loaded.ok(), loaded.message());
    }
  }
}

TEST_CASE("variants override the base, overrides apply to every variant") {
  const std::string text = R"(
[run]
nodes = 4
[compressor]
kind = "identity"
[step]
eta = 0.1

[[variant]]
name = "plain"

[[variant]]
name = "signs"
compressor = { kind = "sign" }
step = { eta = 0.01 }
)";
  std::vector<ExperimentConfig> configs;
  REQUIRE(Load(text, &configs, {"run.nodes=6", "noise.kind=student-t"}).ok());
  REQUIRE(configs.size() == 2);
  CHECK(configs[0].name == "plain");
  CHECK(configs[0].compressor.kind == wire::CompressorKind::Identity);
  CHECK(configs[0].step.eta == 0.1);
  CHECK(configs[1].name == "signs");
  CHECK(configs[1].compressor.kind == wire::CompressorKind::Sign);
  CHECK(configs[1].aggregator.kind == AggregatorKind::kSignMean);  // the default for signs
  CHECK(configs[1].step.eta == 0.01);
  for (const auto& c : configs) {
    CHECK(c.nodes == 6);
    CHECK(c.noise.kind == wire::NoiseKind::StudentT);
  }
  const Status bad = Load(text, &configs, {"compressor.k=0", "compressor.kind=top-k"});
  CHECK(Mentions(bad, "compressor.k = 0"));
}

TEST_CASE("the resolved TOML reads back to the same config") {
  std::vector<ExperimentConfig> configs;
  REQUIRE(Load("[run]\nname = \"x\"\nseed = 12345678901\n[objective]\nlambda_max = 3.3\n[step]\nrule = \"decay\"\n"
               "eta = 0.123456789\n[compressor]\nkind = \"top-k\"\nk = 7\n",
               &configs)
              .ok());
  const ExperimentConfig& a = configs[0];
  std::vector<ExperimentConfig> again;
  const Status s = Load(ToToml(a), &again);
  REQUIRE_MESSAGE(s.ok(), s.message());
  const ExperimentConfig& b = again[0];
  CHECK(ToToml(b) == ToToml(a));
  CHECK(b.seed == 12345678901ull);
  CHECK(b.step.eta == a.step.eta);
  CHECK(b.objective.lambda_max == a.objective.lambda_max);
  CHECK(b.compressor.k == 7);
  CHECK(b.step.rule == StepRuleKind::kDecay);
}

TEST_CASE("overrides are parsed as section.key=value") {
  ConfigOverride o;
  CHECK(ParseOverride("compressor.k=10", &o).ok());
  CHECK(o.key == "compressor.k");
  CHECK(o.value == "10");
  CHECK_FALSE(ParseOverride("k=10", &o).ok());
  CHECK_FALSE(ParseOverride("compressor.k", &o).ok());
}

}  // namespace
}  // namespace edgefl
