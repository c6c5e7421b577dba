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
  CHECK(configs[0].aggregator == AggregatorKind::kMean);
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
  CHECK(configs[1].aggregator == AggregatorKind::kSignMean);  // the default for signs
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
