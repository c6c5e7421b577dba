// UpdateCollector: the updates of one round. Checks each (the round is open
// and is its round, the node was asked and has not answered, the node id
// matches), decodes it against the run's compressor and adds it to the
// aggregator; records the node's report. A refused update changes nothing
// but the bytes counted. Under the virtual clock the round decides which
// updates count only once all are in: Hold checks an update and keeps a
// copy of its message, and TakeHeld adds the ones chosen. Under
// aggregator.weighting = "samples" each update is added with its
// Update.weight (0 read as 1), and one heavier than
// codec::MaxUpdateWeight(run.nodes) is refused, so that a round's weights
// never total more than the exact sums hold (aggregator.h); otherwise every
// update weighs 1 and Update.weight is not read. Not thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "coordinator/aggregator.h"
#include "coordinator/control_variate.h"
#include "coordinator/node_table.h"
#include "schemas/codec/exact_partial.h"
#include "schemas/codec/wire.h"

namespace edgefl {

class UpdateCollector {
 public:
  // `nodes` holds the run's nodes (run.nodes of them).
  // `control`: SCAFFOLD's server variate, which each counted update's
  // control change goes to (an update without a valid one is refused);
  // nullptr otherwise. `partials`: the participants are relays, whose
  // updates are exact partials (relay_topology.h), each as heavy as the
  // nodes it combines, in all at most MaxUpdateWeight(relays).
  UpdateCollector(const codec::CompressorSpec& compressor, uint32_t dimension, Aggregator& aggregator,
                  NodeTable& nodes, Weighting weighting = Weighting::kUniform, ControlVariate* control = nullptr,
                  bool partials = false)
      : compressor_(compressor),
        dimension_(dimension),
        aggregator_(aggregator),
        control_(control),
        nodes_(nodes),
        weighted_(weighting == Weighting::kSamples),
        max_weight_(codec::MaxUpdateWeight(static_cast<uint32_t>(nodes.size()))),
        scratch_(dimension),
        partial_values_(partials ? dimension : 0) {}

  // Opens round `round`: no updates yet.
  void Open(uint32_t round);
  void Close() { open_ = false; }
  bool open() const { return open_; }

  // Takes one Update of `bytes` bytes from joined node `node`, which sent it
  // for `round`; the error says why it was refused. kOverflow: its values
  // were too large to add (|v| >= 2^40 or not finite), which counts as the
  // node's answer (the round does not wait for another) and, from most
  // nodes, as divergence.
  Status Take(uint32_t node, uint32_t round, const wire::Update& update, size_t bytes);

  // Take's two halves: the checks before decoding (the round, the node's
  // part in it, its id; the bytes are counted), and the weighing, decoding
  // and adding of a checked update whose bytes lie in the aggregator's
  // receive buffer.
  Status Check(uint32_t node, uint32_t round, const wire::Update& update, size_t bytes);
  Status Add(uint32_t node, const wire::Update& update) { return AddAs(node, update, nodes_[node].round, 1); }
  // Add, with the node's report written to `row`, and its weight
  // multiplied by `staleness_weight` (buffered aggregation, staleness_weight.h).
  Status AddAs(uint32_t node, const wire::Update& update, NodeRoundMetrics& row, uint32_t staleness_weight);
  // Relay `relay`'s Update: its partial, checked and added (AddAs's part at
  // the root).
  Status AddPartial(uint32_t relay, const wire::Update& update, NodeRoundMetrics& row);
  // AddAs for an update `message` (its whole envelope) held elsewhere: it is
  // copied into the aggregator's receive buffer first.
  Status AddMessage(uint32_t node, std::span<const uint8_t> message, NodeRoundMetrics& row,
                    uint32_t staleness_weight);
  // Take for an Update `message` (its whole envelope, not yet verified)
  // held elsewhere: copied into the aggregator's receive buffer, verified
  // and read there once, then checked and added.
  Status TakeMessage(uint32_t node, uint32_t round, std::span<const uint8_t> message);
  // Counts `bytes` of update received from `node` outside Check.
  void CountBytesUp(size_t bytes) { round_bytes_up_ += bytes; }

  // Checks an update as Take does and keeps a copy of `message` (its
  // whole envelope); the node has answered, and nothing is added yet.
  Status Hold(uint32_t node, uint32_t round, const wire::Update& update, std::span<const uint8_t> message);
  // Decodes and adds node `node`'s held update, as Take does.
  Status TakeHeld(uint32_t node);
  bool holds(uint32_t node) const { return node < held_.size() && !held_[node].empty(); }
  std::span<const uint8_t> held(uint32_t node) const { return held_[node]; }

  uint32_t count() const { return aggregator_.count(); }
  uint64_t round_bytes_up() const { return round_bytes_up_; }
  // Mean of the nodes' reported losses this round (NaN when none was finite).
  double mean_node_loss() const;
  // Mean of the nodes' reported gradient norms this round (NaN when none was finite).
  double mean_node_grad_norm() const;

 private:
  // The update's report (loss, gradient norm, compute time) into `row` and
  // the round's means; the update counted.
  void NoteReport(const wire::Update& update, NodeRoundMetrics& row);

  const codec::CompressorSpec& compressor_;
  const uint32_t dimension_;
  Aggregator& aggregator_;
  ControlVariate* control_;
  NodeTable& nodes_;
  const bool weighted_;         // aggregator.weighting = "samples"
  const uint32_t max_weight_;   // the heaviest update accepted then
  codec::DecodeScratch scratch_;
  std::vector<codec::Int128> partial_values_;  // a relay's partial, decoded (empty: no relays)
  bool open_ = false;
  uint32_t round_ = 0;
  uint64_t round_bytes_up_ = 0;
  double node_loss_sum_ = 0.0;
  uint32_t node_loss_count_ = 0;
  double node_grad_norm_sum_ = 0.0;
  uint32_t node_grad_norm_count_ = 0;
  std::vector<std::vector<uint8_t>> held_;  // Hold's copies, by node; emptied each round
};

}  // namespace edgefl
