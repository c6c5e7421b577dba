// End to end through the real binaries: `edgefl run` launches an
// edgefl-coordinator and edgefl-node processes that talk over 127.0.0.1.
#include <doctest/doctest.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "experiment/experiment_config.h"
#include "runfiles/run_recorder.h"
#include "maths/compressor_maths.h"
#include "sim/closed_forms.h"
#include "tests/integration/process_util.h"

namespace edgefl {
namespace {

using testing::Summary;
using testing::Binary;
using testing::Column;
using testing::RunCommand;

const char* kDsgdConfig = R"(
[run]
name = "dsgd"
nodes = 4
rounds = 400
seed = 7
[objective]
kind = "quadratic"
dimension = 200
spectrum = "linear"
lambda_min = 1.0
lambda_max = 2.0
initial_value = 1.0
[noise]
kind = "gaussian"
sigma = 1.0
batch_size = 1
[compressor]
kind = "identity"
[step]
eta = 0.1
)";

// agreement.toml's [agreement] table, which `edgefl run --predict` writes.
toml::table Agreement(const std::string& path) {
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    FAIL("cannot read " << path << ": " << e.description());
  }
  REQUIRE(t["agreement"].is_table());
  return *t["agreement"].as_table();
}

TEST_CASE("DSGD over real processes settles within 20% of the closed-form floor, and as predicted") {
  const std::string dir = testing::ScratchDir("dsgd_floor");
  testing::WriteFile(dir + "/config.toml", kDsgdConfig);
  const auto r = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml --predict --paths 64 --out " + dir + "/out");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const RunSummary s = Summary(dir + "/out/dsgd/summary.toml");
  CHECK(s.ok);
  CHECK(s.rounds == 400);
  CHECK(s.steps == 400);
  CHECK(s.rejected == 0);
  CHECK(s.update_messages == 4 * 400);

  std::vector<ExperimentConfig> configs;
  REQUIRE(LoadExperimentFile(dir + "/config.toml", {}, &configs).ok());
  const auto floor = PredictedStationaryLoss(configs[0]);
  REQUIRE(floor.has_value());
  // The tail mean averages ~200 rounds of a 200-term sum: its relative
  // error is a few percent, far inside the 20% the issue asks for.
  CHECK(s.tail_mean_loss == doctest::Approx(*floor).epsilon(0.20));
  MESSAGE("tail mean loss " << s.tail_mean_loss << " vs closed form " << *floor);

  // Exact bytes: a dense update is 4 d bytes of values plus a fixed header.
  const double per_update = static_cast<double>(s.bytes_up) / static_cast<double>(s.update_messages);
  CHECK(per_update >= 4 * 200);
  CHECK(per_update <= 4 * 200 + 128);
  CHECK(s.payload_bits_per_coordinate == 32.0);

  // --predict: the forecast beside the run. The measured tail mean's
  // standard error (batch means) is about 1.5% here, the forecast's 0.5%,
  // and the automatic substeps leave about 1% of discretisation error:
  // checked at 4 standard errors plus 2%.
  const toml::table a = Agreement(dir + "/out/dsgd/agreement.toml");
  CHECK(a["measured_verdict"].value_or(std::string()) == "converges");
  CHECK(a["verdict_agrees"].value_or(false));
  const double error = a["relative_error"].value_or(1.0), sigma = a["relative_error_sigma"].value_or(1.0);
  MESSAGE("predicted / measured - 1 = " << error << " +- " << sigma);
  CHECK(sigma < 0.03);
  CHECK(std::fabs(error) < 4 * sigma + 0.02);
  const std::string predicted = testing::ReadFile(dir + "/out/dsgd/predicted.csv");
  CHECK(Column(predicted, "mean_loss").size() == 400);
  CHECK(Column(predicted, "time_s")[0].empty());  // no [link]: no time
}

TEST_CASE("a model longer than one round-start part arrives in parts and trains, the same bit for bit") {
  // d = 40000: parts of 16384, 16384 and 7232 values, reassembled by each node.
  std::string config = kDsgdConfig;
  config.replace(config.find("dimension = 200"), std::string("dimension = 200").size(), "dimension = 40000");
  config.replace(config.find("rounds = 400"), std::string("rounds = 400").size(), "rounds = 30");
  const std::string dir = testing::ScratchDir("round_start_parts");
  testing::WriteFile(dir + "/config.toml", config);
  uint64_t hashes[2] = {};
  for (int run = 0; run < 2; ++run) {
    const std::string out = dir + "/out" + std::to_string(run);
    const auto r = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml --out " + out);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    const RunSummary s = Summary(out + "/dsgd/summary.toml");
    CHECK(s.ok);
    CHECK(s.steps == 30);
    CHECK(s.rejected == 0);
    CHECK(s.update_messages == 4 * 30);
    CHECK(s.final_loss < 0.2 * s.initial_loss);
    // Every round sends all 40000 values to each of the 4 nodes, in three
    // parts, each with a header of less than 80 bytes.
    CHECK(s.bytes_down >= 30u * 4u * 4u * 40000u);
    CHECK(s.bytes_down <= 30u * 4u * (4u * 40000u + 3u * 80u));
    hashes[run] = s.model_hash;
  }
  CHECK(hashes[0] == hashes[1]);
}

TEST_CASE("a step size of 0 is a step taken, not a lost quorum") {
  // eta = 5e-324 (the smallest double) over (1 + k)^2 is 0 from round 1 on.
  // A round with its quorum but a zero step once counted toward the three
  // failed rounds that end a run as "quorum not reached".
  const std::string dir = testing::ScratchDir("zero_step");
  testing::WriteFile(dir + "/config.toml", kDsgdConfig);
  const auto r = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml --rounds 8 --set step.rule=decay " +
                            "--set step.eta=5e-324 --set step.decay_power=2 --out " + dir + "/out");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const RunSummary s = Summary(dir + "/out/dsgd/summary.toml");
  CHECK(s.ok);
  CHECK(s.stop_reason == "all rounds done");
  CHECK(s.rounds == 8);
  CHECK(s.steps == 8);
  CHECK(s.final_loss == s.initial_loss);  // no step moved the model
}

TEST_CASE("a run that starts at or near the optimum is not called diverged") {
  // The loss rises from ~0 to its noise floor; the divergence test once
  // compared it with 1e6 x the initial loss alone (0 at the optimum).
  const std::string dir = testing::ScratchDir("start_at_optimum");
  testing::WriteFile(dir + "/config.toml", kDsgdConfig);
  for (const char* start : {"0", "0.0001"}) {
    CAPTURE(start);
    const std::string out = dir + "/out" + start;
    const auto r = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml --rounds 60 --set objective.initial_value=" +
                              start + " --out " + out);
    INFO(r.output);
    CHECK(r.exit_code == 0);
    const RunSummary s = Summary(out + "/dsgd/summary.toml");
    CHECK(s.stop_reason == "all rounds done");
    CHECK(s.diverged_at == -1);
    CHECK(s.rounds == 60);
  }
}

TEST_CASE("a run whose updates overflow is reported diverged, with its own exit code, not as a lost quorum") {
  // Bernoulli at p = 1/17 with eta = 0.6 on d = 100 diverges; with the loss
  // test set out of reach (1e300), the nodes' updates pass 2^40 first, on a
  // few nodes a round: the rounds lack their quorum. This once ended as
  // "quorum not reached" with exit 1.
  const std::string dir = testing::ScratchDir("overflow_divergence");
  testing::WriteFile(dir + "/config.toml", kDsgdConfig);
  const auto r = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml --rounds 2000 --nodes 8 " +
                            "--set compressor.kind=bernoulli --set compressor.p=0.0588235294 --set step.eta=0.6 " +
                            "--set run.divergence_factor=1e300 --set objective.dimension=100 --out " + dir + "/out");
  INFO(r.output);
  CHECK(r.exit_code == 3);
  CHECK(r.output.find("diverged") != std::string::npos);
  const RunSummary s = Summary(dir + "/out/dsgd/summary.toml");
  CHECK(s.ok);
  CHECK(s.stop_reason == "diverged");
  CHECK(s.diverged_at > 0);
  CHECK(s.rounds == s.diverged_at + 1);
  // metrics.csv kept every round.
  const std::string metrics = testing::ReadFile(dir + "/out/dsgd/metrics.csv");
  CHECK(std::count(metrics.begin(), metrics.end(), '\n') == static_cast<long>(s.rounds) + 1);
}

TEST_CASE("every server optimiser trains over real processes, the same bit for bit twice") {
  std::string config = kDsgdConfig;
  config += R"(
[[variant]]
name = "sgd"
[[variant]]
name = "momentum"
server = { optimizer = "momentum", momentum = 0.5 }
[[variant]]
name = "adagrad"
server = { optimizer = "adagrad" }
[[variant]]
name = "adam"
server = { optimizer = "adam" }
[[variant]]
name = "yogi"
server = { optimizer = "yogi" }
)";
  const std::string dir = testing::ScratchDir("server_optimizers");
  testing::WriteFile(dir + "/config.toml", config);
  for (const char* name : {"sgd", "momentum", "adagrad", "adam", "yogi"}) {
    CAPTURE(name);
    uint64_t hashes[2] = {};
    for (int i = 0; i < 2; ++i) {
      const std::string out = dir + "/out" + std::to_string(i);
      const auto r = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml --rounds 150 --variant " + name +
                                " --out " + out);
      INFO(r.output);
      REQUIRE(r.exit_code == 0);
      const RunSummary s = Summary(out + "/" + name + "/summary.toml");
      CHECK(s.steps == 150);
      CHECK(s.final_loss < s.initial_loss / 20);
      hashes[i] = s.model_hash;
    }
    CHECK(hashes[0] == hashes[1]);
  }
}

TEST_CASE("on the quartic, plain DCSGD diverges and the (L0,L1)-aware step converges") {
  // f = sum_j x_j^4 / 4 from x_0 = 2 (curvature 12), bernoulli p = 1/17
  // (omega = 16), eta = 0.1. Gradient descent would be stable (eta 12 < 2),
  // but the compressor's noise grows with the gradient: eta 12 (1 + omega/N)
  // = 3.6, and the constant step blows up within a few rounds (docs/theory.md
  // 4.4; seeds 1-5 diverged by round 14). l0l1 with L0 = 1, L1 = 3
  // (3 x^2 <= 1 + 3 |x|^3) normalises it away: 400 -> about 0.5.
  const std::string dir = testing::ScratchDir("l0l1_quartic");
  testing::WriteFile(dir + "/config.toml", R"(
[run]
name = "quartic"
nodes = 8
rounds = 300
[objective]
kind = "quartic"
dimension = 100
initial_value = 2.0
[noise]
sigma = 0.1
[compressor]
kind = "bernoulli"
p = 0.0588235294
[step]
eta = 0.1
l0 = 1.0
l1 = 3.0
[[variant]]
name = "constant"
[[variant]]
name = "l0l1"
step = { rule = "l0l1" }
)");
  const auto r =
      RunCommand(Binary("edgefl") + " run " + dir + "/config.toml --predict --paths 32 --out " + dir + "/out");
  INFO(r.output);
  CHECK(r.exit_code == 3);  // a variant diverged
  const RunSummary constant = Summary(dir + "/out/constant/summary.toml");
  CHECK(constant.stop_reason == "diverged");
  CHECK(constant.diverged_at >= 0);
  CHECK(constant.diverged_at < 50);
  const RunSummary l0l1 = Summary(dir + "/out/l0l1/summary.toml");
  CHECK(l0l1.stop_reason == "all rounds done");
  CHECK(l0l1.final_loss < l0l1.initial_loss / 200);
  // metrics.csv records n_k and the L0, L1 each step used, and their source.
  const std::string metrics = testing::ReadFile(dir + "/out/l0l1/metrics.csv");
  CHECK(Column(metrics, "l0")[0] == "1");
  CHECK(Column(metrics, "l1")[0] == "3");
  CHECK(Column(metrics, "smoothness")[0] == "declared");
  CHECK(!Column(metrics, "norm_estimate")[0].empty());
  // The forecast gives both verdicts.
  CHECK(Agreement(dir + "/out/constant/agreement.toml")["predicted_verdict"].value_or(std::string()) == "diverges");
  CHECK(Agreement(dir + "/out/l0l1/agreement.toml")["predicted_verdict"].value_or(std::string()) == "converges");
}

TEST_CASE("l0l1 on the quartic converges out of the box: L0, L1 from the objective, declared or as the fit's start") {
  // Issue 21: with step.l1 left at 0 the l0l1 step was a constant 2 eps / rho
  // = 0.24 (> eta) and diverged in round 1, and so did smoothness = "online"
  // while it waited for three samples. The quartic knows its constants
  // (L0 = lambda_max = 1, L1 = 3; maths/synthetic_objective.h): left out,
  // they are the objective's, declared from round 0 and the fit's start.
  const std::string dir = testing::ScratchDir("l0l1_out_of_the_box");
  testing::WriteFile(dir + "/config.toml", R"(
[run]
name = "quartic"
nodes = 4
rounds = 500
[objective]
kind = "quartic"
dimension = 200
initial_value = 1.2
[noise]
kind = "affine"
sigma = 0.0
sigma1 = 0.1
[compressor]
kind = "bernoulli"
p = 0.1111111111
[step]
rule = "l0l1"
eta = 0.1
eps = 0.9
[[variant]]
name = "declared"
[[variant]]
name = "online"
step = { smoothness = "online" }
)");
  const auto r = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml --out " + dir + "/out");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  for (const char* variant : {"declared", "online"}) {
    INFO(variant);
    const RunSummary s = Summary(dir + "/out/" + variant + "/summary.toml");
    CHECK(s.stop_reason == "all rounds done");
    CHECK(s.diverged_at == -1);
    CHECK(s.final_loss < s.initial_loss / 100);
    const std::string metrics = testing::ReadFile(dir + "/out/" + variant + "/metrics.csv");
    CHECK(Column(metrics, "l0")[0] == "1");
    CHECK(Column(metrics, "l1")[0] == "3");
    CHECK(Column(metrics, "smoothness")[0] == "declared");
    MESSAGE(std::string(variant) << ": loss " << s.initial_loss << " -> " << s.final_loss);
  }
  // The config the run folder keeps says where they came from: the values.
  const std::string kept = testing::ReadFile(dir + "/out/declared/config.toml");
  CHECK(kept.find("l1 = 3.0") != std::string::npos);
}

TEST_CASE("the online estimate of L0 and L1 recovers the cosh's over real processes") {
  // f = (cosh(2x) - 1)/4 from x = 3, exact gradients (d = 1): f'' =
  // cosh(2x) <= 1 + 2|f'|, so L0 = 1 and L1 = 2. While the gradient is large
  // the fit finds the slope 2; near the optimum the intercept 1.
  const std::string dir = testing::ScratchDir("smoothness_online");
  testing::WriteFile(dir + "/config.toml", R"(
[run]
name = "cosh"
nodes = 4
rounds = 300
[objective]
kind = "cosh"
dimension = 1
cosh_scale = 2.0
initial_value = 3.0
[noise]
kind = "none"
[step]
eta = 0.004
smoothness = "online"
)");
  const auto r = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml --out " + dir + "/out");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const std::string metrics = testing::ReadFile(dir + "/out/cosh/metrics.csv");
  const auto l0 = Column(metrics, "l0"), l1 = Column(metrics, "l1"), source = Column(metrics, "smoothness");
  REQUIRE(l1.size() == 300);
  CHECK(source[0] == "declared");  // no sample before the second step
  CHECK(source[20] == "estimated");
  CHECK(std::stod(l1[20]) == doctest::Approx(2.0).epsilon(0.02));
  CHECK(std::stod(l0[299]) == doctest::Approx(1.0).epsilon(0.25));
  MESSAGE("round 20: L1 = " << l1[20] << "; round 299: L0 = " << l0[299] << ", L1 = " << l1[299]);
}

TEST_CASE("same config and seed give the same model bit for bit") {
  const std::string dir = testing::ScratchDir("determinism");
  testing::WriteFile(dir + "/config.toml", kDsgdConfig);
  std::string hashes[2], metrics[2];
  for (int i = 0; i < 2; ++i) {
    const std::string out = dir + "/out" + std::to_string(i);
    const auto r = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml --rounds 60 --set compressor.kind=qsgd " +
                              "--set compressor.levels=4 --out " + out);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    hashes[i] = std::to_string(Summary(out + "/dsgd/summary.toml").model_hash);
    // Losses, norms and bytes of every round; time varies and is cut.
    for (const std::string& line : {testing::ReadFile(out + "/dsgd/metrics.csv")}) {
      std::string kept;
      size_t start = 0;
      while (start < line.size()) {
        const size_t end = line.find('\n', start);
        const std::string row = line.substr(start, end - start);
        const size_t c1 = row.find(','), c2 = row.find(',', c1 + 1);
        kept += row.substr(0, c1) + row.substr(c2) + "\n";
        start = end == std::string::npos ? line.size() : end + 1;
      }
      metrics[i] = kept;
    }
  }
  CHECK(hashes[0] == hashes[1]);
  CHECK(metrics[0] == metrics[1]);
  CHECK(metrics[0].size() > 1000);
}

TEST_CASE("the built-in quickstart runs DSGD, DCSGD and DSignSGD to convergence") {
  const std::string dir = testing::ScratchDir("quickstart");
  const auto r = RunCommand(Binary("edgefl") + " run --out " + dir + "/out");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  for (const char* variant : {"dsgd", "dcsgd-rand-k", "dsignsgd"}) {
    CAPTURE(variant);
    const RunSummary s = Summary(dir + "/out/" + variant + "/summary.toml");
    CHECK(s.ok);
    CHECK(s.stop_reason == "all rounds done");
    CHECK(s.final_loss < s.initial_loss / 100);
  }
  CHECK(r.output.find("variant") != std::string::npos);  // the summary table
}

TEST_CASE("every compressor and aggregator runs end to end") {
  const std::string dir = testing::ScratchDir("all_compressors");
  testing::WriteFile(dir + "/config.toml", R"(
[run]
nodes = 3
rounds = 40
[objective]
dimension = 300
[noise]
sigma = 0.1
[step]
eta = 0.1
[[variant]]
name = "identity"
compressor = { kind = "identity" }
[[variant]]
name = "rand-k"
compressor = { kind = "rand-k", k = 30 }
step = { eta = 0.02 }
[[variant]]
name = "bernoulli"
compressor = { kind = "bernoulli", p = 0.2 }
step = { eta = 0.05 }
[[variant]]
name = "qsgd"
compressor = { kind = "qsgd", levels = 8 }
[[variant]]
name = "natural"
compressor = { kind = "natural" }
[[variant]]
name = "sign-mean"
compressor = { kind = "sign" }
step = { eta = 0.02 }
[[variant]]
name = "majority"
compressor = { kind = "sign" }
aggregator = { kind = "majority" }
step = { eta = 0.02 }
[[variant]]
name = "scaled-sign"
compressor = { kind = "scaled-sign" }
[[variant]]
name = "ef-sign"
compressor = { kind = "ef-sign" }
[[variant]]
name = "top-k"
compressor = { kind = "top-k", k = 30 }
step = { eta = 0.5 }
)");
  const auto r = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml --out " + dir + "/out");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  std::vector<ExperimentConfig> configs;
  REQUIRE(LoadExperimentFile(dir + "/config.toml", {}, &configs).ok());
  for (const ExperimentConfig& config : configs) {
    const std::string variant = config.name;
    CAPTURE(variant);
    const RunSummary s = Summary(dir + "/out/" + variant + "/summary.toml");
    CHECK(s.ok);
    CHECK(s.rejected == 0);
    CHECK(s.update_messages == 3 * 40);
    CHECK(s.final_loss < s.initial_loss / 2);
    // Exact bytes: measured = theoretical payload + a small fixed header of
    // about 120-155 bytes (envelope, tables, length prefixes, padding);
    // bernoulli's payload is random around its expectation.
    const double header_bytes = (s.measured_bits_per_coordinate - s.payload_bits_per_coordinate) * 300 / 8;
    if (variant == "bernoulli") {
      CHECK(std::fabs(header_bytes) <= 200);
    } else {
      CHECK(header_bytes >= 80);
      CHECK(header_bytes <= 160);
      // Every update of a fixed-size compressor is exactly the predicted
      // message, header and all.
      CHECK(s.measured_bits_per_coordinate ==
            doctest::Approx(MessageBitsPerCoordinate(config.compressor, 300)).epsilon(1e-12));
    }
  }
}

}  // namespace
}  // namespace edgefl

namespace edgefl {
namespace {

TEST_CASE("nodes learn the digits from their own shards: stated accuracies are reached") {
  const std::string dir = testing::ScratchDir("digits");
  testing::WriteFile(dir + "/config.toml", R"(
[run]
nodes = 4
rounds = 200
seed = 3
[objective]
kind = "logistic"
dataset = "digits"
[noise]
kind = "none"
batch_size = 16
[step]
eta = 0.5
[[variant]]
name = "logistic-iid"
compressor = { kind = "qsgd", levels = 4 }
[[variant]]
name = "mlp-noniid"
objective = { kind = "mlp", hidden = 16, partition = "dirichlet", dirichlet_alpha = 0.3 }
compressor = { kind = "ef-sign" }
step = { eta = 0.2 }
)");
  const auto r = RunCommand(Binary("edgefl") + " run " + dir + "/config.toml --predict --paths 4 --out " + dir + "/out");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  RunSummary logistic, mlp;
  REQUIRE(ReadSummary(dir + "/out/logistic-iid/summary.toml", &logistic).ok());
  REQUIRE(ReadSummary(dir + "/out/mlp-noniid/summary.toml", &mlp).ok());
  // Chance is 0.1; these runs measure about 0.95 and 0.96.
  CHECK(logistic.final_test_accuracy >= 0.90);
  CHECK(mlp.final_test_accuracy >= 0.88);
  CHECK(logistic.final_loss < 0.5 * logistic.initial_loss);
  MESSAGE("digits test accuracy: logistic/qsgd " << logistic.final_test_accuracy << ", mlp/ef-sign non-iid "
                                                 << mlp.final_test_accuracy);
  // --predict: the forecast from the shards' own minibatch noise follows
  // the runs (the loss over the last half has a standard error of a few
  // percent: checked at 4 of them plus 3%).
  for (const char* variant : {"logistic-iid", "mlp-noniid"}) {
    CAPTURE(variant);
    const toml::table a = Agreement(dir + "/out/" + variant + "/agreement.toml");
    CHECK(a["verdict_agrees"].value_or(false));
    const double error = a["relative_error"].value_or(1.0), sigma = a["relative_error_sigma"].value_or(1.0);
    MESSAGE(std::string(variant) << ": predicted / measured - 1 = " << error << " +- " << sigma);
    CHECK(std::fabs(error) < 4 * sigma + 0.03);
  }
}

}  // namespace
}  // namespace edgefl
