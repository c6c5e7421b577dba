// Aggregator: combines a round's accepted updates into one direction, in
// memory of its own choosing, and independently of the order updates arrive
// in, so a seed gives one model bit for bit. Implementations:
//   mean          (1/n) sum_i C_i(g_i)      MeanAggregator: an exact fixed-point sum, streaming, O(d)
//   sign-mean     (1/n) sum_i sign(g_i)     SignVoteAggregator: integer counts (DSignSGD, docs/theory.md 1)
//   majority      sign(sum_i sign(g_i))     SignVoteAggregator: integer counts, ties give 0
//   median        coordinate-wise median    CoordinateWiseAggregator (coordinate_wise_aggregator.h)
//   trimmed-mean  coordinate-wise mean of the values left after dropping the largest and smallest
//   krum          the mean of the m updates closest to their n - f - 2 nearest others (krum_aggregator.h)
//   centered-clip v <- v + (1/n) sum_i clip_tau(g_i - v), L times from last round's v (centered_clip_aggregator.h)
// and two options that compose with the rules of values:
//   bucket_size s   the rule sees the means of seeded buckets of s updates (bucketing_aggregator.h)
//   node_momentum b the rule sees each node's momentum of its updates (node_momentum_aggregator.h)
// n is the number of updates accepted this round. Median, trimmed mean,
// krum and centered-clip keep every update of a round (O(n d)); with
// aggregator.max_update_norm, updates are scaled down to that norm first
// (norm_bound.h).
//
// Weights (aggregator.weighting = "samples"): each update comes with the
// samples behind it, w_i = Update.weight (0 read as 1), and the rules that
// take weights count it w_i times, exactly (integers), so the result is
// still the same whatever the arrival order:
//   mean          sum_i w_i C_i(g_i) / sum_i w_i, FedAvg (McMahan et al. 2017): ExactSum adds w_i ToFixed(v)
//                 and Finish divides by gcd_i w_i exactly before the one rounding, so equal weights give
//                 the unweighted mean bit for bit. With max_update_norm each update is bounded first, then
//                 weighted (a node's share of the mean is w_i / sum w, not 1/n); with node_momentum the rule
//                 weighs node i's momentum by this round's w_i.
//   sign-mean     sum_i w_i sign(g_i) / sum_i w_i, integer counts, divided by the gcd the same way
//   majority      sign(sum_i w_i sign(g_i)), a vote weighted by samples; ties give 0
// The robust rules (median, trimmed-mean, krum, centered-clip, and
// bucketing, which feeds them) refuse weights at config time: they resist
// hostile nodes by giving each node one vote, and weights are what a node
// says of itself, so a hostile node would claim the largest allowed and
// outvote the rest; a weighted median or Krum would also need a trusted
// sample count, which the coordinator does not have. A round's weights total
// at most codec::kMaxRoundWeight = 2^20 (the exact sums' headroom): the
// coordinator refuses an update heavier than 2^20 / run.nodes, and a config
// whose nodes would send one. Without weights every update weighs 1.
//
// An aggregator also owns
// the buffers update messages are received into, since some (the mean)
// keep decoded updates as views of those bytes until they add them. Not
// thread-safe.
#pragma once

#include <cassert>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "experiment/experiment_config.h"
#include "core/state_io.h"
#include "schemas/codec/exact_partial.h"
#include "schemas/codec/wire.h"

namespace edgefl {

class Aggregator {
 public:
  virtual ~Aggregator() = default;

  // Starts a round: no updates.
  virtual void Reset() = 0;
  // Starts round `round` (bucketing seeds its shuffle with it): Reset.
  virtual void StartRound(uint32_t round) {
    (void)round;
    Reset();
  }
  // Where the next update message is to be received: 8-byte aligned, room
  // for the largest message of the run. Valid until the next Add or Reset.
  virtual std::span<uint64_t> ReceiveBuffer() = 0;
  // Adds one decoded update of the run's compressor, whose bytes lie in the
  // buffer ReceiveBuffer() returned last.
  virtual void Add(const codec::DecodedPayload& update) = 0;
  // The same, from node `node` (< the run's nodes, once a round), counted
  // `weight` (>= 1) times: what the coordinator calls. Rules that look at who
  // sent what (node momentum, bucketing) need the node, rules that take
  // weights (the mean and sign votes, above) the weight; the others ignore
  // the node, and are given weight 1 only (the config refuses weights for
  // them).
  virtual void AddFrom(uint32_t node, const codec::DecodedPayload& update, uint32_t weight) {
    (void)node;
    (void)weight;
    assert(weight == 1 && "this rule takes no weights");
    Add(update);
  }
  // Updates added this round.
  virtual uint32_t count() const = 0;
  // Writes the direction, for count() > 0.
  virtual void Finish(std::span<double> direction) = 0;
  // Updates this round scaled down to aggregator.max_update_norm.
  virtual uint32_t bounded() const { return 0; }
  // Whether the last Finish could not apply its rule and took another (Krum
  // with fewer than 2f + 3 updates takes the coordinate-wise median).
  virtual bool fell_back() const { return false; }
  // L when every value of the last Finish's direction is an integer count
  // times 1/L, as a sign vote's are (sign-mean: the total weight; majority:
  // 1); 0 for rules whose values are not (a step-form RoundStart then sends
  // them as floats, downlink_step.h).
  virtual uint32_t vote_levels() const { return 0; }

  // Relays (docs/protocol.md 11). A rule whose round is an exact integer
  // combination (the mean's fixed-point sums, the sign votes' counts) can
  // hand it upward as a partial, and take its relays' partials in place of
  // their nodes' updates: added in any grouping, the integers are the same,
  // so a tree of relays ends on a flat run's model bit for bit. The rules
  // of values (median, trimmed mean, Krum, centered clip, bucketing, node
  // momentum) need every update itself and have no partial.
  // The partial this rule has, or nullopt.
  virtual std::optional<wire::PartialKind> partial_kind() const { return std::nullopt; }
  // This round's partial, its values written to `values` (d of them), for
  // count() > 0.
  virtual void ExportPartial(std::span<codec::Int128> values, codec::ExactPartial* out) {
    (void)values;
    (void)out;
    assert(false && "this rule has no partial");
  }
  // Adds a relay's partial (of partial_kind()) as the updates it combines.
  virtual void AddPartial(const codec::ExactPartial& partial) {
    (void)partial;
    assert(false && "this rule has no partial");
  }

  // What the aggregator carries from one round to the next (centered-clip's
  // centre, the nodes' momenta), for checkpoints: written after the server
  // step's state. Most aggregators carry nothing and write nothing. State
  // changes only in Finish, so a round without a step leaves it as it was.
  virtual void Save(StateWriter& out) const { (void)out; }
  virtual Status Load(StateReader& in) {
    (void)in;
    return Status::Ok();
  }
};

// The aggregator a config asks for, for rounds of at most `nodes` updates,
// receiving messages of at most `max_message_bytes` of `compressor`'s kind;
// `seed` (run.seed) seeds bucketing's shuffles. Everything it needs is
// allocated here, once for the run.
std::unique_ptr<Aggregator> MakeAggregator(const AggregatorConfig& config, wire::CompressorKind compressor,
                                           uint32_t nodes, uint32_t dimension, size_t max_message_bytes,
                                           uint64_t seed = 0);

}  // namespace edgefl
