#include "coordinator/admission.h"

#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

namespace edgefl {
namespace {

// Check()'s reason for a Hello that `hello` describes, from routing id
// node-`node`, in a run of `config` (empty: admitted).
std::string Refusal(const ExperimentConfig& config, uint32_t node, const codec::HelloInfo& hello) {
  flatbuffers::FlatBufferBuilder fbb;
  codec::EncodeHello(fbb, hello);
  std::vector<uint64_t> aligned((fbb.GetSize() + 7) / 8);
  std::memcpy(aligned.data(), fbb.GetBufferPointer(), fbb.GetSize());
  const wire::Envelope* envelope = nullptr;
  const Status read = codec::ReadEnvelope({reinterpret_cast<const uint8_t*>(aligned.data()), fbb.GetSize()}, &envelope);
  REQUIRE_MESSAGE(read.ok(), read.message());
  NodeTable nodes(config.nodes);
  const Admission admission(config, nodes);
  char reason[256];
  return std::string(admission.Check(node, *envelope->body_as_Hello(), reason));
}

ExperimentConfig CoshRun() {
  ExperimentConfig config;
  config.objective.kind = wire::ObjectiveKind::Cosh;
  config.noise.kind = wire::NoiseKind::Affine;
  config.compressor.kind = wire::CompressorKind::Sign;
  return config;
}

TEST_CASE("a node that implements everything is admitted") {
  CHECK(Refusal(CoshRun(), 2, {.node_id = 2}).empty());
  CHECK(Refusal(ExperimentConfig{}, 0, {.node_id = 0, .dimension = 100}).empty());
}

TEST_CASE("a node is refused, with the kind named, when it lacks the run's compressor, objective or noise") {
  const ExperimentConfig config = CoshRun();
  // What a node that predates cosh and affine noise would declare.
  static constexpr wire::ObjectiveKind kOlderObjectives[] = {
      wire::ObjectiveKind::Quadratic, wire::ObjectiveKind::Quartic, wire::ObjectiveKind::Logistic,
      wire::ObjectiveKind::Mlp};
  static constexpr wire::NoiseKind kOlderNoises[] = {wire::NoiseKind::None, wire::NoiseKind::Gaussian,
                                                     wire::NoiseKind::StudentT};
  static constexpr wire::CompressorKind kDenseOnly[] = {wire::CompressorKind::Identity};
  CHECK(Refusal(config, 1, {.node_id = 1, .compressors = kDenseOnly}) ==
        "node does not support compressor.kind = \"sign\"");
  CHECK(Refusal(config, 1, {.node_id = 1, .objectives = kOlderObjectives}) ==
        "node does not support objective.kind = \"cosh\"");
  CHECK(Refusal(config, 1, {.node_id = 1, .noises = kOlderNoises}) ==
        "node does not support noise.kind = \"affine\"");
  // The same node joins a run it can compute.
  ExperimentConfig older_run = config;
  older_run.objective.kind = wire::ObjectiveKind::Quartic;
  older_run.noise.kind = wire::NoiseKind::StudentT;
  CHECK(Refusal(older_run, 1, {.node_id = 1, .objectives = kOlderObjectives, .noises = kOlderNoises}).empty());
}

TEST_CASE("an absent list declares nothing") {
  const ExperimentConfig config = CoshRun();
  CHECK(Refusal(config, 1, {.node_id = 1, .compressors = {}}) == "node does not support compressor.kind = \"sign\"");
  CHECK(Refusal(config, 1, {.node_id = 1, .objectives = {}}) == "node does not support objective.kind = \"cosh\"");
  CHECK(Refusal(config, 1, {.node_id = 1, .noises = {}}) == "node does not support noise.kind = \"affine\"");
}

TEST_CASE("identity and dimension are checked before the lists") {
  const ExperimentConfig config = CoshRun();
  static constexpr wire::ObjectiveKind kNone[] = {wire::ObjectiveKind::Quadratic};
  CHECK(Refusal(config, 3, {.node_id = 1, .objectives = kNone}) == "routing id does not match node id 1");
  CHECK(Refusal(config, 1, {.node_id = 1, .dimension = 7, .objectives = kNone}) ==
        "node dimension 7 does not match objective.dimension = 100");
}

}  // namespace
}  // namespace edgefl
