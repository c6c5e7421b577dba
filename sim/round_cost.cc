#include "sim/round_cost.h"

#include <cmath>
#include <limits>

#include "experiment/link_model.h"
#include "maths/compressor_maths.h"
#include "schemas/codec/model_step.h"
#include "schemas/codec/wire.h"

namespace edgefl {

namespace {

double UpBytes(const ExperimentConfig& config) {
  return ExpectedUpdateMessageBytes(config.compressor, config.objective.dimension);
}

double ModelBytes(const ExperimentConfig& config) {
  return static_cast<double>(codec::RoundStartBytes(config.objective.dimension, 1));
}

// One round's step in the step form (coordinator/downlink_step.h): exact for
// the sign votes (majority's signs, sign-mean's counts of K votes), at the
// expected union for rand-k and bernoulli, at most K k values for top-k;
// the model's bytes when the step is dense (every other rule, and a server
// optimiser's moments), as the coordinator then sends the model.
double StepBytes(const ExperimentConfig& config) {
  const uint32_t d = config.objective.dimension;
  const double model = ModelBytes(config);
  if (config.server.optimizer != ServerOptimizerKind::kSgd) return model;
  const double k = config.CohortSize();
  double kept = -1.0;  // a sparse mean's values (expected), or -1 for counts
  uint32_t levels = 0;
  switch (config.aggregator.kind) {
    case AggregatorKind::kMajority:
      levels = 1;
      break;
    case AggregatorKind::kSignMean:
      levels = config.CohortSize();
      break;
    case AggregatorKind::kMean:
      if (config.aggregator.node_momentum > 0.0) return model;
      if (config.compressor.kind == wire::CompressorKind::RandK ||
          config.compressor.kind == wire::CompressorKind::Bernoulli) {
        const double q = config.compressor.kind == wire::CompressorKind::RandK
                             ? static_cast<double>(config.compressor.k) / d
                             : config.compressor.p;
        kept = d * (1.0 - std::pow(1.0 - q, k));
      } else if (config.compressor.kind == wire::CompressorKind::TopK) {
        kept = std::min<double>(d, k * config.compressor.k);
      } else {
        return model;
      }
      break;
    case AggregatorKind::kMedian:
    case AggregatorKind::kTrimmedMean:
    case AggregatorKind::kKrum:
    case AggregatorKind::kCenteredClip:
      return model;  // dense
  }
  if (levels > 0xFFFF) return model;
  double bytes = 0.0;
  for (uint32_t offset = 0; offset < d; offset += codec::kRoundStartPartValues) {
    const uint32_t length = codec::PartLength(d, offset);
    if (levels > 0) {
      bytes += static_cast<double>(codec::StepPartBytes(d, offset, wire::Payload::Quantized, levels));
      continue;
    }
    // The part's share of the kept values; sparse while 8 bytes a value is
    // less than 4 a coordinate (AddFloatPart).
    const double part_kept = kept * length / d;
    const bool sparse = 8.0 * part_kept < 4.0 * length;
    const auto whole = static_cast<uint32_t>(std::ceil(part_kept));
    bytes += static_cast<double>(codec::StepPartBytes(d, offset, sparse ? wire::Payload::SparseF32
                                                                          : wire::Payload::DenseF32, 1, whole));
  }
  return bytes < model ? bytes : model;
}

// What a node is sent in a round (round 0's RoundStart is 8 bytes shorter,
// and every node's first round takes the model: neither is counted). The
// step form: a node asked with probability p a round gets the steps since
// its last round, g of them with probability p (1 - p)^(g - 1), or the model
// once they cost more.
double DownBytes(const ExperimentConfig& config) {
  const double model = ModelBytes(config);
  if (config.round.downlink != DownlinkForm::kStep) return model;
  const double step = StepBytes(config);
  if (!(step < model)) return model;
  const double p = std::min(1.0, ParticipationModel(config, model, UpBytes(config)).Expected().asked /
                                     static_cast<double>(config.nodes));
  if (p >= 1.0) return step;
  double expected = 0.0, reach = 1.0;  // reach: P(gap >= g)
  for (uint32_t g = 1; g * step < model && reach > 1e-12; ++g) {
    expected += reach * p * g * step;
    reach *= 1.0 - p;
  }
  return expected + reach * model;
}

}  // namespace

ParticipationModel CohortModelOf(const ExperimentConfig& config) {
  return ParticipationModel(config, DownBytes(config), UpBytes(config));
}

std::optional<uint32_t> FixedCountedUpdates(const ExperimentConfig& config) {
  const std::optional<RoundDraw> fixed = CohortModelOf(config).Fixed();
  if (!fixed || fixed->counted == 0) return std::nullopt;
  return fixed->counted;
}

std::vector<BufferedStepPlan> BufferedPlanOf(const ExperimentConfig& config) {
  std::vector<double> task_seconds(config.nodes);
  for (uint32_t i = 0; i < config.nodes; ++i) {
    task_seconds[i] = RoundSeconds(ResolveLink(config.LinkOf(i)), DownBytes(config), UpBytes(config));
  }
  return PlanBufferedSteps(config, task_seconds, config.rounds);
}

RoundCost RoundCostOf(const ExperimentConfig& config) {
  RoundCost cost;
  cost.up_bytes = UpBytes(config);
  cost.down_bytes = DownBytes(config);
  // The figures the nodes' shapers enforce (TaskSpec.link).
  const codec::LinkSpec link = ResolveLink(config.LinkOf(0));
  cost.uplink_bps = link.uplink_bps;
  cost.downlink_bps = link.downlink_bps;
  const ParticipationModel participation(config, cost.down_bytes, cost.up_bytes);
  cost.participation = participation.Expected();
  if (config.async.Buffered()) {
    const std::vector<BufferedStepPlan> plan = BufferedPlanOf(config);
    const double steps = static_cast<double>(plan.size());
    cost.participation = {.asked = static_cast<double>(config.async.buffer),
                          .counted = static_cast<double>(config.async.buffer),
                          .seconds = plan.empty() ? 0.0 : plan.back().end_s / steps,
                          .exact = true};
  }
  if (link.uplink_bps > 0.0) {
    cost.node_seconds = participation.ArrivalSeconds(0);
    cost.seconds = cost.participation.seconds;
  } else {
    cost.node_seconds = cost.seconds = std::numeric_limits<double>::quiet_NaN();
  }
  return cost;
}

}  // namespace edgefl
