#include "experiment/experiment_config.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/temp_files.h"

namespace edgefl {
namespace {

Status Load(const std::string& text, std::vector<ExperimentConfig>* out, std::vector<std::string> overrides = {}) {
  return LoadExperiments(text, "test.toml", overrides, out);
}

bool Mentions(const Status& s, const char* what) { return std::string(s.message()).find(what) != std::string::npos; }
bool Mentions(const Status& s, const std::string& what) { return Mentions(s, what.c_str()); }

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

TEST_CASE("the task carries the link resolved: the preset's rate and duty cycle, the uplink for the downlink") {
  std::vector<ExperimentConfig> configs;
  REQUIRE(Load("[link]\npreset = \"lorawan\"\nshaping = \"token-bucket\"\nlatency_ms = 30\ncompute_ms = 4\n",
               &configs)
              .ok());
  codec::LinkSpec link = configs[0].TaskFor(1).link;
  CHECK(link.shaping == wire::LinkShaping::TokenBucket);
  CHECK(link.uplink_bps == 2.65e3);
  CHECK(link.downlink_bps == 2.65e3);
  CHECK(link.duty_cycle == 0.01);
  CHECK(link.latency_ms == 30.0);
  CHECK(link.compute_ms == 4.0);

  REQUIRE(Load("[link]\npreset = \"lte-m\"\nshaping = \"kernel\"\nuplink_bps = 5e5\ndownlink_bps = 2e6\n", &configs)
              .ok());
  link = configs[0].TaskFor(0).link;
  CHECK(link.shaping == wire::LinkShaping::Kernel);
  CHECK(link.uplink_bps == 5e5);  // given rates win over the preset's
  CHECK(link.downlink_bps == 2e6);
  CHECK(link.duty_cycle == 1.0);

  REQUIRE(Load("[run]\nnodes = 2\n", &configs).ok());
  CHECK(configs[0].TaskFor(0).link == codec::LinkSpec{});  // no [link]: no shaping, no figures
}

TEST_CASE("a shaped link needs a rate, and absurd link figures are refused, naming the key") {
  std::vector<ExperimentConfig> configs;
  Status s = Load("[link]\nshaping = \"token-bucket\"\nlatency_ms = 20\n", &configs);
  CHECK(Mentions(s, "link.shaping = \"token-bucket\" needs a rate each way: give link.uplink_bps or link.preset"));
  s = Load("[link]\nuplink_bps = 1e15\n", &configs);
  CHECK(Mentions(s, "link.uplink_bps = 1e+15"));
  s = Load("[link]\nlatency_ms = -1\n", &configs);
  CHECK(Mentions(s, "link.latency_ms = -1"));
  s = Load("[link]\nshaping = \"token-bucket\"\nuplink_bps = 0.25\n", &configs);
  CHECK(Mentions(s, "link.uplink_bps = 0.25"));
  CHECK(Load("[link]\nshaping = \"token-bucket\"\npreset = \"nb-iot\"\n", &configs).ok());
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

TEST_CASE("aggregator.weighting: samples for the mean and the sign votes, refused by the robust rules and past "
          "the exact sums' headroom") {
  std::vector<ExperimentConfig> configs;
  REQUIRE(Load("[run]\nnodes = 3\n", &configs).ok());
  CHECK(configs[0].aggregator.weighting == Weighting::kUniform);
  // The mean, bounded or with node momentum, and both sign votes take weights.
  for (const char* text : {"[aggregator]\nweighting = \"samples\"\n",
                           "[aggregator]\nweighting = \"samples\"\nmax_update_norm = 2.0\nnode_momentum = 0.9\n",
                           "[compressor]\nkind = \"qsgd\"\nlevels = 4\n[aggregator]\nweighting = \"samples\"\n",
                           "[compressor]\nkind = \"sign\"\n[aggregator]\nweighting = \"samples\"\n",
                           "[compressor]\nkind = \"sign\"\n[aggregator]\nkind = \"majority\"\nweighting = \"samples\"\n",
                           "[objective]\nkind = \"mlp\"\ndataset = \"digits\"\nhidden = 8\n[aggregator]\n"
                           "weighting = \"samples\"\n"}) {
    CAPTURE(text);
    configs.clear();
    const Status s = Load(text, &configs);
    CHECK_MESSAGE(s.ok(), s.message());
    CHECK(configs.at(0).aggregator.weighting == Weighting::kSamples);
  }
  // The robust rules, and bucketing, which feeds them, refuse it, saying why.
  for (const char* kind : {"median", "trimmed-mean", "krum", "centered-clip"}) {
    CAPTURE(kind);
    const Status s = Load(std::string("[run]\nnodes = 6\n[aggregator]\nkind = \"") + kind +
                              "\"\nbyzantine = 0\nweighting = \"samples\"\n",
                          &configs);
    CHECK(Mentions(s, std::string("aggregator.weighting = \"samples\": aggregator.kind = \"") + kind +
                          "\" resists hostile nodes by giving each node one vote"));
  }
  CHECK(Mentions(Load("[run]\nnodes = 6\n[aggregator]\nkind = \"median\"\nbucket_size = 2\nweighting = \"samples\"\n",
                      &configs),
                 "one vote"));
  CHECK(Mentions(Load("[aggregator]\nweighting = \"fedavg\"\n", &configs),
                 "aggregator.weighting = \"fedavg\": must be one of: uniform, samples"));
  // A synthetic objective's nodes weigh their batch: 2^20 / run.nodes at most.
  CHECK(Load("[run]\nnodes = 16\n[noise]\nbatch_size = 65536\n[aggregator]\nweighting = \"samples\"\n", &configs)
            .ok());
  const Status heavy =
      Load("[run]\nnodes = 16\n[noise]\nbatch_size = 65537\n[aggregator]\nweighting = \"samples\"\n", &configs);
  CHECK(Mentions(heavy, "aggregator.weighting = \"samples\": each update would weigh noise.batch_size = 65537 "
                        "samples, more than the 65536 one update may weigh with run.nodes = 16"));
  // Uniform weights do not read the batch.
  CHECK(Load("[run]\nnodes = 16\n[noise]\nbatch_size = 65537\n", &configs).ok());
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

TEST_CASE("a run's name cannot leave runs/: separators, '..' and odd characters are refused, naming the key") {
  std::vector<ExperimentConfig> configs;
  for (const char* bad : {"../../x", "a/b", "..", ".hidden", "-rf", "two words", "tab\there", ""}) {
    INFO(bad);
    const Status s = Load(std::string("[run]\nname = \"") + bad + "\"\n", &configs);
    CHECK_FALSE(s.ok());
    CHECK(Mentions(s, "run.name = \""));
  }
  CHECK(Mentions(Load("[run]\nname = \"" + std::string(101, 'a') + "\"\n", &configs), "too long"));
  // A variant's name is a folder name too.
  const Status s = Load("[[variant]]\nname = \"ok\"\n[[variant]]\nname = \"../up\"\n", &configs);
  CHECK(Mentions(s, "variant 2: name = \"../up\""));
  const std::string longest(100, 'a');
  for (const std::string& good : {std::string("l0l1-dcsgd"), std::string("constant-omega4"), std::string("run_1.5+x"),
                                  longest}) {
    INFO(good);
    CHECK(Load("[run]\nname = \"" + good + "\"\n", &configs).ok());
  }
}

TEST_CASE("a config file must be a regular file of at most 1 MiB") {
  std::vector<ExperimentConfig> configs;
  const std::string dir = testing::TempDir("edgefl-config-test");
  // A folder used to read as empty text: the default experiment, silently.
  Status s = LoadExperimentFile(dir, {}, &configs);
  CHECK(Mentions(s, "is not a regular file (a folder)"));
  // /dev/zero used to be read until memory ran out.
  s = LoadExperimentFile("/dev/zero", {}, &configs);
  CHECK(Mentions(s, "'/dev/zero' is not a regular file (a device, pipe or socket)"));
  const std::string big = dir + "/big.toml";
  std::ofstream(big) << "# " << std::string(kMaxConfigFileBytes, 'x') << "\n";
  CHECK(Mentions(LoadExperimentFile(big, {}, &configs), "is larger than 1048576 bytes"));
  CHECK(Mentions(LoadExperimentFile(dir + "/missing.toml", {}, &configs), "cannot read config file"));
  const std::string good = dir + "/good.toml";
  std::ofstream(good) << "[run]\nnodes = 3\n";
  REQUIRE(LoadExperimentFile(good, {}, &configs).ok());
  CHECK(configs[0].nodes == 3);
  std::filesystem::remove_all(dir);
}

TEST_CASE("L0 and L1 left out are a synthetic objective's own; a data objective needs them declared or fitted") {
  std::vector<ExperimentConfig> configs;
  REQUIRE(Load("[objective]\nkind = \"quartic\"\nlambda_max = 2.0\n[step]\nrule = \"l0l1\"\n", &configs).ok());
  CHECK(configs[0].step.l0 == 2.0);  // lambda_max
  CHECK(configs[0].step.l1 == 3.0);  // 3 lambda x^2 <= (4/9) lambda + 3 |grad|
  REQUIRE(Load("[objective]\nkind = \"cosh\"\ncosh_scale = 2.5\n", &configs).ok());
  CHECK(configs[0].step.l0 == 1.0);
  CHECK(configs[0].step.l1 == 2.5);
  REQUIRE(Load("[objective]\nlambda_max = 4.0\n", &configs).ok());
  CHECK(configs[0].step.l0 == 4.0);
  CHECK(configs[0].step.l1 == 0.0);
  // Declared values win, each on its own.
  REQUIRE(Load("[objective]\nkind = \"quartic\"\n[step]\nrule = \"l0l1\"\nl1 = 1.5\n", &configs).ok());
  CHECK(configs[0].step.l0 == 1.0);
  CHECK(configs[0].step.l1 == 1.5);
  // What the run folder keeps reads back to the same config.
  std::vector<ExperimentConfig> again;
  REQUIRE(Load(ToToml(configs[0]), &again).ok());
  CHECK(again[0] == configs[0]);

  const std::string data = "[objective]\nkind = \"logistic\"\ndataset = \"digits\"\n";
  Status s = Load(data + "[step]\nrule = \"l0l1\"\n", &configs);
  CHECK(Mentions(s, "step.l0: step.rule = \"l0l1\" needs L0 and L1, which objective.kind = \"logistic\" does not know"));
  s = Load(data + "[step]\nrule = \"vankov\"\nl0 = 2.0\n", &configs);
  CHECK(Mentions(s, "step.l1: step.rule = \"vankov\""));
  REQUIRE(Load(data + "[step]\nrule = \"l0l1\"\nl0 = 2.0\nl1 = 0.5\n", &configs).ok());
  CHECK(configs[0].step.l0 == 2.0);
  REQUIRE(Load(data + "[step]\nrule = \"l0l1\"\nsmoothness = \"online\"\n", &configs).ok());
  CHECK(configs[0].step.l0 == 0.0);  // none: cautious steps until the fit
  CHECK(configs[0].step.l1 == 0.0);
  REQUIRE(Load(ToToml(configs[0]), &again).ok());
  CHECK(again[0] == configs[0]);
  // Rules that do not use them keep the plain defaults.
  REQUIRE(Load(data, &configs).ok());
  CHECK(configs[0].step.l0 == 1.0);
}

TEST_CASE("central DP bounds every decoded update to the clip norm; the other modes leave the aggregator alone") {
  std::vector<ExperimentConfig> configs;
  REQUIRE(Load("[privacy]\nmode = \"central\"\nclip_norm = 2.5\nnoise_multiplier = 1.0\n", &configs).ok());
  CHECK(AggregatorAsRun(configs[0]).max_update_norm == 2.5);
  // The tighter of the two bounds.
  REQUIRE(Load("[privacy]\nmode = \"central\"\nclip_norm = 2.5\nnoise_multiplier = 1.0\n[aggregator]\n"
               "max_update_norm = 1.5\n",
               &configs)
              .ok());
  CHECK(AggregatorAsRun(configs[0]).max_update_norm == 1.5);
  REQUIRE(Load("[privacy]\nmode = \"central\"\nclip_norm = 2.5\nnoise_multiplier = 1.0\n[aggregator]\n"
               "max_update_norm = 7\n",
               &configs)
              .ok());
  CHECK(AggregatorAsRun(configs[0]).max_update_norm == 2.5);
  // Local DP and clipping alone: the nodes clip; the coordinator takes [aggregator] as it is.
  REQUIRE(Load("[privacy]\nmode = \"local\"\nclip_norm = 2.5\nnoise_multiplier = 1.0\n", &configs).ok());
  CHECK(AggregatorAsRun(configs[0]).max_update_norm == 0.0);
  REQUIRE(Load("[privacy]\nclip_norm = 2.5\n", &configs).ok());
  CHECK(AggregatorAsRun(configs[0]).max_update_norm == 0.0);
  CHECK(configs[0].TaskFor(0).privacy.clip_norm == 2.5);
  CHECK(configs[0].TaskFor(0).privacy.noise_multiplier == 0.0);
}

TEST_CASE("buffered aggregation: a buffer, the summing rules, and no per-round participation; each refusal says why") {
  std::vector<ExperimentConfig> configs;
  const std::string base = "[run]\nnodes = 6\n[async]\nmode = \"buffered\"\n";
  REQUIRE(Load(base + "buffer = 3\nconcurrency = 4\nstaleness = \"hinge\"\nhinge_after = 2\n", &configs).ok());
  CHECK(configs[0].async.Buffered());
  CHECK(configs[0].async.buffer == 3);
  CHECK(configs[0].async.concurrency == 4);
  CHECK(configs[0].async.staleness == StalenessWeighting::kHinge);
  CHECK(configs[0].async.hinge_after == 2);
  // The defaults: sync, and FedBuff's 1/sqrt(1 + s) when buffered.
  REQUIRE(Load("[run]\nnodes = 2\n", &configs).ok());
  CHECK_FALSE(configs[0].async.Buffered());
  CHECK(configs[0].async.staleness == StalenessWeighting::kPolynomial);
  CHECK(configs[0].async.staleness_exponent == 0.5);

  Status s = Load(base, &configs);
  CHECK(Mentions(s, "async.buffer >= 1"));
  s = Load(base + "buffer = 2\nconcurrency = 7\n", &configs);
  CHECK(Mentions(s, "async.concurrency = 7"));
  s = Load(base + "buffer = 2\n[aggregator]\nkind = \"median\"\n", &configs);
  CHECK(Mentions(s, "a buffer may hold two updates from one fast node"));
  s = Load(base + "buffer = 2\n[aggregator]\nnode_momentum = 0.5\n", &configs);
  CHECK(Mentions(s, "without node_momentum or bucketing"));
  s = Load(base + "buffer = 2\n[aggregator]\nweighting = \"samples\"\n", &configs);
  CHECK(Mentions(s, "weighting"));
  s = Load(base + "buffer = 2\n[round]\ncohort = 3\n", &configs);
  CHECK(Mentions(s, "round.cohort"));
  s = Load(base + "buffer = 2\n[round]\ndropout = 0.1\n", &configs);
  CHECK(Mentions(s, "dropout 0.1"));
  s = Load(base + "buffer = 2\n[local]\noptimizer = \"scaffold\"\n", &configs);
  CHECK(Mentions(s, "scaffold"));
  s = Load(base + "buffer = 2\n[privacy]\nmode = \"central\"\nclip_norm = 1\nnoise_multiplier = 1\n", &configs);
  CHECK(Mentions(s, "privacy.mode = \"central\""));
  s = Load(base + "buffer = 2\nstaleness = \"exponential\"\n", &configs);
  CHECK(Mentions(s, "async.staleness = \"exponential\""));
  // The sign votes sum exactly too.
  CHECK(Load(base + "buffer = 2\n[compressor]\nkind = \"sign\"\n[aggregator]\nkind = \"majority\"\n", &configs)
            .ok());
}

}  // namespace
}  // namespace edgefl
