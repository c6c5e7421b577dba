#include "sim/round_cost.h"

#include <cmath>
#include <limits>

#include "experiment/link_model.h"
#include "maths/compressor_maths.h"
#include "schemas/codec/wire.h"

namespace edgefl {

namespace {

double UpBytes(const ExperimentConfig& config) {
  return ExpectedUpdateMessageBytes(config.compressor, config.objective.dimension);
}

// Round 0's RoundStart is 8 bytes shorter (no round field); every later one is this.
double DownBytes(const ExperimentConfig& config) {
  return static_cast<double>(codec::RoundStartBytes(config.objective.dimension, 1));
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
