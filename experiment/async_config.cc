// What buffered asynchronous aggregation needs of the rest of the config
// (experiment_config.h, AsyncConfig).
#include "experiment/experiment_config.h"

namespace edgefl {
namespace {

Status Bad(const char* format, auto... args) { return Status::Error(StatusCode::kInvalidArgument, format, args...); }

}  // namespace

Status CheckAsync(const ExperimentConfig& c) {
  const AsyncConfig& a = c.async;
  if (!a.Buffered()) return Status::Ok();
  if (a.buffer == 0) {
    return Bad("async.mode = \"buffered\" needs async.buffer >= 1: the number of updates each step takes");
  }
  if (a.concurrency > c.nodes) {
    return Bad("async.concurrency = %u: at most run.nodes = %u nodes can train at once", a.concurrency, c.nodes);
  }
  // A buffer may hold two updates of one fast node: the robust rules, which
  // give each node one vote against hostile ones, would give it two (and a
  // fast hostile node could fill the buffer), and node momentum and
  // bucketing key their state by node. The mean and the sign votes stay
  // exact sums, whoever sent what.
  const AggregatorConfig& g = c.aggregator;
  const bool summed = g.kind == AggregatorKind::kMean || g.kind == AggregatorKind::kSignMean ||
                      g.kind == AggregatorKind::kMajority;
  if (!summed || g.node_momentum > 0.0 || g.bucket_size > 1) {
    return Bad("async.mode = \"buffered\" needs aggregator.kind = \"mean\", \"sign-mean\" or \"majority\" without "
               "node_momentum or bucketing (got \"%s\"): a buffer may hold two updates from one fast node, and "
               "the robust rules give each node one vote a step",
               AggregatorName(g.kind));
  }
  if (g.weighting != Weighting::kUniform) {
    return Bad("async.mode = \"buffered\" weighs each update by its staleness; aggregator.weighting = \"samples\" "
               "cannot be combined with it: leave weighting at \"uniform\"");
  }
  if (c.local.HasControl()) {
    return Bad("async.mode = \"buffered\" with local.optimizer = \"scaffold\": SCAFFOLD's control variates assume "
               "that every update of a step was computed against the same server variate c");
  }
  if (c.privacy.mode == PrivacyMode::kCentral) {
    return Bad("async.mode = \"buffered\" with privacy.mode = \"central\": the accountant assumes Poisson sampling "
               "of each round's nodes, which buffered steps do not do; use privacy.mode = \"local\"");
  }
  // Concurrency replaces the round's cohort; a node's participation is
  // whether it is alive.
  const RoundConfig& r = c.round;
  if (r.cohort != 0 || r.over_commit != 0.0) {
    return Bad("async.mode = \"buffered\" sets how many nodes train with async.concurrency: leave round.cohort "
               "(%u) and round.over_commit (%g) at 0",
               r.cohort, r.over_commit);
  }
  for (uint32_t node = 0; node < c.nodes; ++node) {
    const ExperimentConfig::Participation p = c.ParticipationOf(node);
    if (p.availability < 1.0 || p.dropout > 0.0 || p.schedule.period > 0) {
      return Bad("async.mode = \"buffered\" does not draw availability, dropout or schedules, which count rounds "
                 "(node %u has availability %g, dropout %g, schedule period %u): leave them out",
                 node, p.availability, p.dropout, p.schedule.period);
    }
  }
  return Status::Ok();
}

}  // namespace edgefl
