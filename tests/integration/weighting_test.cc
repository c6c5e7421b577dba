// aggregator.weighting = "samples" end to end, through the real binaries:
// on the digits' non-IID shards (Dirichlet, so of different sizes) each
// node sends its shard's size as its update's weight, the weighted mean
// trains to another model than the uniform one, the same one twice, and
// `edgefl verify --replay` takes its steps again; where every node weighs
// the same (the quickstart: synthetic objectives, one batch size) the model
// is the uniform one bit for bit, which is the quickstart's pinned hashes.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "runfiles/run_recorder.h"
#include "runfiles/update_log.h"
#include "schemas/codec/wire.h"
#include "tests/integration/process_util.h"

namespace edgefl {
namespace {

using testing::Summary;
using testing::Binary;
using testing::Contains;
using testing::RunCommand;

std::string Hex(uint64_t hash) {
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

TEST_CASE("weighting = samples on non-IID digits: each node weighs its shard, the model differs from uniform's, "
          "is the same twice, and replays") {
  const std::string dir = testing::ScratchDir("weighting_digits");
  const std::string run = Binary("edgefl") + " run " + std::string(EDGEFL_SOURCE_DIR) +
                          "/examples/digits.toml --variant mlp-noniid-dense --rounds 30 ";
  const std::string variant = "/mlp-noniid-dense";
  struct Run {
    std::string out;
    std::string flags;
  };
  const Run runs[] = {{dir + "/samples-a", "--set aggregator.weighting=samples --keep-updates"},
                      {dir + "/samples-b", "--set aggregator.weighting=samples"},
                      {dir + "/uniform", ""}};
  std::vector<RunSummary> summaries;
  for (const Run& r : runs) {
    const auto result = RunCommand(run + r.flags + " --out " + r.out, 300);
    INFO(result.output);
    REQUIRE(result.exit_code == 0);
    summaries.push_back(Summary(r.out + variant + "/summary.toml"));
    CHECK(summaries.back().ok);
    CHECK(summaries.back().rejected == 0);
    CHECK(summaries.back().final_loss < summaries.back().initial_loss);
  }
  MESSAGE("digits mlp non-iid, 30 rounds: samples " << Hex(summaries[0].model_hash) << " (test accuracy "
                                                    << summaries[0].final_test_accuracy << "), uniform "
                                                    << Hex(summaries[2].model_hash) << " ("
                                                    << summaries[2].final_test_accuracy << ")");
  CHECK(summaries[0].model_hash == summaries[1].model_hash);
  CHECK(summaries[0].model_hash != summaries[2].model_hash);

  // The weights the nodes sent: their shards, of different sizes, which
  // together are the training set (1797 samples less the test fifth, 359).
  std::vector<KeptUpdate> kept;
  REQUIRE(ReadUpdateLog(runs[0].out + variant + "/" + kUpdateLogFile, &kept).ok());
  uint64_t total = 0;
  std::set<uint32_t> sizes;
  uint32_t first_round = 0;
  for (const KeptUpdate& u : kept) {
    if (u.round != 0) continue;
    const wire::Envelope* envelope = nullptr;
    REQUIRE(codec::ReadEnvelope({reinterpret_cast<const uint8_t*>(u.message.data()), u.bytes}, &envelope).ok());
    const uint32_t weight = envelope->body_as_Update()->weight();
    total += weight;
    sizes.insert(weight);
    ++first_round;
  }
  CHECK(first_round == 8);
  CHECK(total == 1797 - 359);
  CHECK(sizes.size() > 1);

  const auto replay = RunCommand(Binary("edgefl") + " verify --replay " + runs[0].out + variant);
  INFO(replay.output);
  CHECK(replay.exit_code == 0);
  CHECK(Contains(replay.output, "replay: 30 rounds taken again"));
}

TEST_CASE("weighting = samples with equal weights changes no bit: the quickstart keeps its pinned hashes") {
  // A synthetic objective's nodes all weigh noise.batch_size: the weights'
  // gcd divides them back to 1, and the mean (and the sign mean) is the
  // uniform one bit for bit.
  const std::string dir = testing::ScratchDir("weighting_quickstart");
  const char* variants[] = {"dsgd", "dcsgd-rand-k", "dsignsgd"};
  const char* pinned[] = {"9c51b15e460ba298", "07391f97fadc225c", "6374c0711c36e6a9"};
  for (const char* weighting : {"uniform", "samples"}) {
    CAPTURE(weighting);
    const std::string out = dir + "/" + weighting;
    const auto r = RunCommand(Binary("edgefl") + " run --set aggregator.weighting=" + weighting + " --out " + out, 300);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    for (int v = 0; v < 3; ++v) {
      CAPTURE(variants[v]);
      CHECK(Hex(Summary(out + "/" + variants[v] + "/summary.toml").model_hash) == pinned[v]);
    }
  }
}

}  // namespace
}  // namespace edgefl
