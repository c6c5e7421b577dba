// libFuzzer target: the coordinator's handling of messages from nodes, past
// the transport: the envelope, Admission's checks of a Hello, and the
// UpdateCollector taking updates (checks, decoding, the aggregator) for a
// round, then the aggregate; or, as the root of two relays, their Hellos and
// exact partials. The input picks the compressor, aggregator, weighting and
// topology and is a sequence of messages, each [node id: 1 byte][size: 2 bytes, LE]
// [bytes]. Whatever arrives, nothing may crash, and the direction is finite.
// scripts/fuzz.sh builds and runs it; fuzz/corpus/handler/ holds seeds.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "coordinator/admission.h"
#include "coordinator/aggregator.h"
#include "experiment/experiment_config.h"
#include "coordinator/node_table.h"
#include "coordinator/relay_topology.h"
#include "coordinator/update_collector.h"
#include "node/node_runtime.h"
#include "schemas/codec/wire.h"

namespace {

using namespace edgefl;

constexpr uint32_t kNodes = 4;
constexpr uint32_t kDimension = 64;

// The (compressor, aggregator) pairs a run may have, and the weighting of
// those that take weights.
struct Setup {
  codec::CompressorSpec compressor;
  AggregatorKind aggregator;
  double node_momentum = 0.0;
  uint32_t bucket_size = 1;
  Weighting weighting = Weighting::kUniform;
  uint32_t relays = 0;  // > 0: the root of this many relays, each serving kNodes / relays
};
const Setup kSetups[] = {
    {{.kind = wire::CompressorKind::Identity}, AggregatorKind::kMean},
    {{.kind = wire::CompressorKind::RandK, .k = 8}, AggregatorKind::kMean},
    {{.kind = wire::CompressorKind::Bernoulli, .p = 0.25}, AggregatorKind::kMean},
    {{.kind = wire::CompressorKind::Qsgd, .levels = 4}, AggregatorKind::kMean},
    {{.kind = wire::CompressorKind::Natural}, AggregatorKind::kMean},
    {{.kind = wire::CompressorKind::Sign}, AggregatorKind::kSignMean},
    {{.kind = wire::CompressorKind::Sign}, AggregatorKind::kMajority},
    {{.kind = wire::CompressorKind::ScaledSign}, AggregatorKind::kMean},
    {{.kind = wire::CompressorKind::EfSign}, AggregatorKind::kMean},
    {{.kind = wire::CompressorKind::TopK, .k = 8}, AggregatorKind::kMean},
    {{.kind = wire::CompressorKind::Identity}, AggregatorKind::kMedian},
    {{.kind = wire::CompressorKind::Qsgd, .levels = 4}, AggregatorKind::kTrimmedMean},
    {{.kind = wire::CompressorKind::RandK, .k = 8}, AggregatorKind::kKrum},
    {{.kind = wire::CompressorKind::Identity}, AggregatorKind::kCenteredClip},
    {{.kind = wire::CompressorKind::Sign}, AggregatorKind::kCenteredClip, 0.9, 2},
    {{.kind = wire::CompressorKind::Qsgd, .levels = 4}, AggregatorKind::kMedian, 0.5, 2},
    {{.kind = wire::CompressorKind::Identity}, AggregatorKind::kMean, 0.0, 1, Weighting::kSamples},
    {{.kind = wire::CompressorKind::Qsgd, .levels = 4}, AggregatorKind::kMean, 0.9, 1, Weighting::kSamples},
    {{.kind = wire::CompressorKind::RandK, .k = 8}, AggregatorKind::kMean, 0.0, 1, Weighting::kSamples},
    {{.kind = wire::CompressorKind::ScaledSign}, AggregatorKind::kMean, 0.0, 1, Weighting::kSamples},
    {{.kind = wire::CompressorKind::Sign}, AggregatorKind::kSignMean, 0.0, 1, Weighting::kSamples},
    {{.kind = wire::CompressorKind::Sign}, AggregatorKind::kMajority, 0.0, 1, Weighting::kSamples},
    // 22..25: the root of two relays (coordinator/relay_topology.h).
    {{.kind = wire::CompressorKind::Identity}, AggregatorKind::kMean, 0.0, 1, Weighting::kUniform, 2},
    {{.kind = wire::CompressorKind::Sign}, AggregatorKind::kSignMean, 0.0, 1, Weighting::kUniform, 2},
    {{.kind = wire::CompressorKind::Sign}, AggregatorKind::kMajority, 0.0, 1, Weighting::kUniform, 2},
    {{.kind = wire::CompressorKind::TopK, .k = 8}, AggregatorKind::kMean, 0.0, 1, Weighting::kSamples, 2},
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const Setup& setup = kSetups[data[0] % (sizeof(kSetups) / sizeof(kSetups[0]))];
  ExperimentConfig config;
  config.nodes = kNodes;
  config.objective.dimension = kDimension;
  config.compressor = setup.compressor;
  config.aggregator.kind = setup.aggregator;
  config.aggregator.byzantine = 0;
  config.aggregator.node_momentum = setup.node_momentum;
  config.aggregator.bucket_size = setup.bucket_size;
  config.aggregator.weighting = setup.weighting;
  RelayTopology topology;
  topology.relays = setup.relays;
  const uint32_t participants = topology.Participants(kNodes);
  const size_t max_bytes = topology.root() ? codec::ExactPartialSizeLimit(kDimension)
                                           : codec::UpdateSizeLimit(config.compressor, kDimension);
  auto aggregator = MakeAggregator(config.aggregator, config.compressor.kind, participants, kDimension, max_bytes);
  NodeTable nodes(participants);
  for (uint32_t i = 0; i < participants; ++i) {
    nodes[i].joined = nodes[i].alive = true;
    nodes[i].serves = topology.root() ? topology.NodesPerRelay(kNodes) : 1;
  }
  Admission admission(config, nodes, topology);
  UpdateCollector collector(config.compressor, kDimension, *aggregator, nodes, config.aggregator.weighting, nullptr,
                            topology.root());
  collector.Open(0);
  nodes.BeginRound(0);

  for (size_t at = 1; at + 3 <= size;) {
    const uint32_t node = data[at];
    const size_t length = std::min<size_t>(data[at + 1] | (size_t{data[at + 2]} << 8), size - at - 3);
    const uint8_t* message = data + at + 3;
    at += 3 + length;
    // Received into the aggregator's buffer, as the transport does.
    const std::span<uint64_t> buffer = aggregator->ReceiveBuffer();
    if (length > buffer.size_bytes()) continue;  // refused as oversized
    std::memcpy(buffer.data(), message, length);
    const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(buffer.data()), length);
    const wire::Envelope* envelope = nullptr;
    if (!codec::ReadEnvelope(bytes, &envelope).ok()) continue;
    if (envelope->body_type() == wire::Body::Hello) {
      char reason[256];
      (void)admission.Check(node, *envelope->body_as_Hello(), reason);
    } else if (envelope->body_type() == wire::Body::Update && nodes.Joined(node)) {
      (void)collector.Take(node, envelope->round(), *envelope->body_as_Update(), length);
    }
  }
  if (collector.count() > 0) {
    std::vector<double> direction(kDimension);
    aggregator->Finish(direction);
    for (const double v : direction) {
      if (!std::isfinite(v)) __builtin_trap();  // accepted updates are finite; so is their aggregate
    }
  }
  return 0;
}
